/**
 * The far side of a bonded path for the in-process benchmarks: emulated
 * links (LinkSim) → BondReceiver → an SRT listener already bound on
 * `listenerPort` (or, given two srt:// URLs, the receiver's fan-out to both). The stream unit brings its own bonding sender: `bond` is
 * what its spec needs to use these links. close() takes the path down.
 */
import type { BondLinkOptions } from '../bond/index.js';
import { BondReceiver } from '../bond/receiver.js';
import { LinkSim, type LinkSpecInput } from '../linksim/index.js';

export interface BondedPath {
  links: LinkSim;
  receiver: BondReceiver;
  /** The stream spec's `bond`: the receiver, and each emulated link as an uplink. */
  bond: { receiver: string; links: BondLinkOptions[] };
  close(): void;
}

export async function startBondedPath(
  listener: number | readonly string[],
  links: readonly LinkSpecInput[],
  seed: number,
): Promise<BondedPath> {
  const forward = typeof listener === 'number' ? `127.0.0.1:${listener}` : listener;
  const receiver = new BondReceiver({ listen: '127.0.0.1:0', forward });
  await receiver.start();
  const sim = new LinkSim({ seed, target: `127.0.0.1:${receiver.port}`, links: [...links] });
  await sim.start();
  return {
    links: sim,
    receiver,
    bond: {
      receiver: `127.0.0.1:${receiver.port}`,
      links: sim.names.map((name) => ({ name, bind: '127.0.0.1', via: sim.link(name).address })),
    },
    close() {
      sim.close();
      receiver.close();
    },
  };
}
