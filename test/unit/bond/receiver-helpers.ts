/** Test helpers: a receiver with a fake SRT listener behind it, and hand-driven SRTLA links. */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { controlWord, encodeReg1, encodeReg2, SRTLA_TYPE } from '../../../src/bond/protocol.js';
import { BondReceiver, type BondReceiverOptions } from '../../../src/bond/receiver.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

/** A UDP socket that records what it receives. */
export class Peer {
  readonly got: { msg: Buffer; port: number; address: string }[] = [];
  constructor(readonly sock: dgram.Socket) {
    sock.on('message', (msg, r) => this.got.push({ msg, port: r.port, address: r.address }));
  }

  static async open(host = '127.0.0.1', type: 'udp4' | 'udp6' = 'udp4'): Promise<Peer> {
    const sock = dgram.createSocket(type);
    await new Promise<void>((res) => sock.bind(0, host, () => res()));
    return new Peer(sock);
  }

  get port(): number {
    return this.sock.address().port;
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // closed
    }
  }

  /** Messages whose first 16 bits are `type` (SRTLA) — or all. */
  of(type?: number): Buffer[] {
    return this.got.map((g) => g.msg).filter((m) => type === undefined || controlWord(m) === type);
  }

  async next(type: number, ms = 3000): Promise<Buffer> {
    const seen = this.of(type).length;
    await waitFor(() => this.of(type).length > seen, ms);
    return this.of(type)[seen]!;
  }
}

/** One SRTLA link of a hand-driven sender. */
export class Link {
  constructor(
    readonly peer: Peer,
    private readonly port: number,
    private readonly host = '127.0.0.1',
  ) {}

  send(msg: Buffer): void {
    this.peer.sock.send(msg, this.port, this.host);
  }

  async request(msg: Buffer, replyTypes: number[], ms = 3000): Promise<Buffer> {
    const seen = this.peer.got.length;
    this.send(msg);
    await waitFor(() => this.peer.got.slice(seen).some((g) => replyTypes.includes(controlWord(g.msg) ?? -1)), ms);
    return this.peer.got.slice(seen).find((g) => replyTypes.includes(controlWord(g.msg) ?? -1))!.msg;
  }
}

export interface Rig {
  receiver: BondReceiver;
  /** The fake SRT listener the receiver forwards to. */
  listener: Peer;
  peers: Peer[];
  link(host?: string): Promise<Link>;
  /** REG1 on the first link, REG2 on all: the full group id. */
  register(links: Link[]): Promise<Buffer>;
  close(): void;
}

export async function rig(opts: Partial<BondReceiverOptions> = {}): Promise<Rig> {
  const listener = await Peer.open();
  const receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `srt://127.0.0.1:${listener.port}`, ...opts });
  await receiver.start();
  const peers: Peer[] = [listener];
  return {
    receiver,
    listener,
    peers,
    async link(host = '127.0.0.1') {
      const p = await Peer.open(host);
      peers.push(p);
      return new Link(p, receiver.port);
    },
    async register(links) {
      const reg2 = await links[0]!.request(encodeReg1(randomBytes(256)), [SRTLA_TYPE.REG2]);
      const id = reg2.subarray(2);
      for (const l of links) {
        const r = await l.request(encodeReg2(id), [SRTLA_TYPE.REG3, SRTLA_TYPE.REG_ERR, SRTLA_TYPE.REG_NGP]);
        if (controlWord(r) !== SRTLA_TYPE.REG3) throw new Error(`link refused: 0x${controlWord(r)!.toString(16)}`);
      }
      return Buffer.from(id);
    },
    close() {
      receiver.close();
      for (const p of peers) p.close();
    },
  };
}
