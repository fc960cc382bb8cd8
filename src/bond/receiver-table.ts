/**
 * The receiver's groups and links, and which link belongs to which group:
 * the one owner of that relation (CONVENTIONS.md §14). Every change goes
 * through here, so the indexes cannot drift apart: a link is found by its
 * source address (`ip|port`) on each packet, a group by its full id, a
 * group's links by the group, and a group that has sent no data yet by the
 * address that created it (a resent REG1 gets the same group).
 *
 * No I/O: registration (receiver-registration.ts) decides what changes; the
 * groups' sockets are receiver-group.ts's.
 */
import type { ReceiverGroup, ReceiverLink } from './receiver-group.js';

const NO_LINKS: ReadonlyMap<string, ReceiverLink> = new Map();

export class GroupTable {
  private readonly byId = new Map<string, ReceiverGroup>();
  private readonly byAddress = new Map<string, ReceiverLink>();
  private readonly linksByGroup = new Map<ReceiverGroup, Map<string, ReceiverLink>>();
  private readonly pendingByCreator = new Map<string, ReceiverGroup>();

  get groupCount(): number {
    return this.byId.size;
  }

  groups(): IterableIterator<ReceiverGroup> {
    return this.byId.values();
  }

  group(idHex: string): ReceiverGroup | undefined {
    return this.byId.get(idHex);
  }

  /** The link at this source address (`ip|port`), if it is one. */
  link(key: string): ReceiverLink | undefined {
    return this.byAddress.get(key);
  }

  /** A group's links, by source address. */
  linksOf(g: ReceiverGroup): ReadonlyMap<string, ReceiverLink> {
    return this.linksByGroup.get(g) ?? NO_LINKS;
  }

  /** The group this address created that has sent no data yet. */
  pendingFrom(creatorKey: string): ReceiverGroup | undefined {
    return this.pendingByCreator.get(creatorKey);
  }

  /** A new group, pending until it sends data; it replaces any earlier pending group of its creator address. */
  addGroup(g: ReceiverGroup): void {
    this.byId.set(g.idHex, g);
    this.linksByGroup.set(g, new Map());
    this.pendingByCreator.set(g.creatorKey, g);
  }

  /** The group is no longer pending (it sent data, or is going). True when it was its creator's pending group. */
  endPending(g: ReceiverGroup): boolean {
    if (this.pendingByCreator.get(g.creatorKey) !== g) return false;
    this.pendingByCreator.delete(g.creatorKey);
    return true;
  }

  addLink(link: ReceiverLink): void {
    this.byAddress.set(link.key, link);
    this.linksByGroup.get(link.group)?.set(link.key, link);
  }

  removeLink(link: ReceiverLink): void {
    if (this.byAddress.get(link.key) === link) this.byAddress.delete(link.key);
    this.linksByGroup.get(link.group)?.delete(link.key);
  }

  /** Removes a group and all its links. True when it was still its creator's pending group. */
  removeGroup(g: ReceiverGroup): boolean {
    for (const l of this.linksOf(g).values()) if (this.byAddress.get(l.key) === l) this.byAddress.delete(l.key);
    this.linksByGroup.delete(g);
    this.byId.delete(g.idHex);
    return this.endPending(g);
  }
}
