/** What the readers need of a channel: sending commands. Tests give them a scripted fake. */
import type { SendOptions } from './at-channel.js';
import type { AtReply } from './at-parser.js';

export interface AtCommander {
  /** The reply whatever its result code; rejects on no answer or a lost port. */
  exchange(command: string, options?: SendOptions): Promise<AtReply>;
  /** The reply; an ERROR result rejects with ModemAtError. */
  send(command: string, options?: SendOptions): Promise<AtReply>;
}
