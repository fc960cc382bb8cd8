/**
 * The bonded path the in-process benchmarks stream through: BondSender →
 * emulated links (LinkSim) → BondReceiver → an SRT listener already bound on
 * `listenerPort`. The pipeline calls the sender's local port; close() takes
 * the path down in order (sender first, so nothing is sent into closed links).
 */
import { BondReceiver } from '../bond/receiver.js';
import { BondSender } from '../bond/sender.js';
import { LinkSim, type LinkSpecInput } from '../linksim/index.js';

export interface BondedPath {
  /** Local port the SRT caller connects to. */
  local: number;
  sender: BondSender;
  links: LinkSim;
  receiver: BondReceiver;
  close(): Promise<void>;
}

export async function startBondedPath(listenerPort: number, links: readonly LinkSpecInput[], seed: number): Promise<BondedPath> {
  const receiver = new BondReceiver({ listen: '127.0.0.1:0', forward: `127.0.0.1:${listenerPort}` });
  await receiver.start();
  const sim = new LinkSim({ seed, target: `127.0.0.1:${receiver.port}`, links: [...links] });
  await sim.start();
  const sender = new BondSender({
    receiver: `127.0.0.1:${receiver.port}`,
    links: sim.names.map((name) => ({ name, bind: '127.0.0.1', via: sim.link(name).address })),
  });
  const local = await sender.start();
  return {
    local,
    sender,
    links: sim,
    receiver,
    async close() {
      await sender.close();
      sim.close();
      receiver.close();
    },
  };
}
