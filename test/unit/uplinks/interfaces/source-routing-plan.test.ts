import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROUTING_RANGE,
  planSourceRouting,
  type RoutingState,
  type Uplink,
  UplinkConfigError,
} from '../../../../src/uplinks/interfaces/index.js';
import { parseRouteShow, parseRuleShow } from '../../../../src/uplinks/interfaces/ip-json.js';
import { assignSlots, checkRoutingRange, desiredRouting } from '../../../../src/uplinks/interfaces/source-routing-plan.js';

const R = DEFAULT_ROUTING_RANGE; // tables 100…131, priorities 1000…
const ETH0: Uplink = {
  name: 'eth0',
  kind: 'ethernet',
  address: '192.168.1.20',
  prefixLength: 24,
  subnet: '192.168.1.0/24',
  gateway: '192.168.1.1',
  operstate: 'up',
};
const WWAN0: Uplink = { name: 'wwan0', kind: 'cellular', address: '10.64.12.7', prefixLength: 32, operstate: 'unknown' };
const USB0: Uplink = {
  name: 'usb0',
  kind: 'cellular',
  address: '192.168.8.100',
  prefixLength: 24,
  subnet: '192.168.8.0/24',
  operstate: 'up',
};

const EMPTY: RoutingState = {
  rules: parseRuleShow(
    JSON.stringify([
      { priority: 0, src: 'all', table: '255' },
      { priority: 32766, src: 'all', table: '254' },
      { priority: 32767, src: 'all', table: '253' },
    ]),
  ),
  routes: [],
};

function plan(uplinks: Uplink[], state: RoutingState = EMPTY, previous = new Map<string, number>()): string[] {
  const { slots } = assignSlots(uplinks, previous, state.rules, R);
  return planSourceRouting(desiredRouting(uplinks, slots, R), state, R).map((s) => s.args.join(' '));
}

/** The state `ip` would report after the given uplinks were applied from nothing. */
function settled(uplinks: Uplink[]): RoutingState {
  const { slots } = assignSlots(uplinks, new Map(), [], R);
  const d = desiredRouting(uplinks, slots, R);
  return {
    rules: parseRuleShow(
      JSON.stringify([
        { priority: 0, src: 'all', table: '255' },
        ...d.map((x) => ({ priority: x.priority, src: x.address, table: String(x.table) })),
        { priority: 32766, src: 'all', table: '254' },
      ]),
    ),
    routes: parseRouteShow(
      JSON.stringify(
        d.flatMap((x) => [
          ...(x.subnet ? [{ dst: x.subnet, dev: x.uplink, table: String(x.table), scope: 'link', flags: [] }] : []),
          { dst: 'default', dev: x.uplink, ...(x.gateway ? { gateway: x.gateway } : {}), table: String(x.table), flags: [] },
        ]),
      ),
    ),
  };
}

describe('source routing planner', () => {
  it('adds a table and a rule per uplink, routes before rules', () => {
    expect(plan([ETH0, WWAN0, USB0])).toEqual([
      'route replace 192.168.1.0/24 dev eth0 table 100',
      'route replace default via 192.168.1.1 dev eth0 table 100',
      'route replace default dev wwan0 table 101',
      'route replace 192.168.8.0/24 dev usb0 table 102',
      'route replace default dev usb0 table 102',
      'rule add from 192.168.1.20 lookup 100 priority 1000',
      'rule add from 10.64.12.7 lookup 101 priority 1001',
      'rule add from 192.168.8.100 lookup 102 priority 1002',
    ]);
  });

  it('plans nothing a second time', () => {
    expect(plan([ETH0, WWAN0, USB0], settled([ETH0, WWAN0, USB0]))).toEqual([]);
  });

  it('on an address change adds the new rule, then deletes the old one, and keeps the table', () => {
    const moved = { ...USB0, address: '192.168.9.50', subnet: '192.168.9.0/24' };
    const previous = new Map([
      ['eth0', 0],
      ['wwan0', 1],
      ['usb0', 2],
    ]);
    expect(plan([ETH0, WWAN0, moved], settled([ETH0, WWAN0, USB0]), previous)).toEqual([
      'route replace 192.168.9.0/24 dev usb0 table 102',
      'rule add from 192.168.9.50 lookup 102 priority 1002',
      'rule del priority 1002 from 192.168.8.100 lookup 102',
      'route del 192.168.8.0/24 dev usb0 table 102',
    ]);
  });

  it('on a gateway change replaces the default route in place', () => {
    const previous = new Map([['eth0', 0]]);
    expect(plan([{ ...ETH0, gateway: '192.168.1.254' }], settled([ETH0]), previous)).toEqual([
      'route replace default via 192.168.1.254 dev eth0 table 100',
    ]);
  });

  it('removes exactly what a gone uplink had, and nothing outside the owned range', () => {
    const state = settled([ETH0, WWAN0, USB0]);
    const foreign: RoutingState = {
      rules: [...state.rules, ...parseRuleShow(JSON.stringify([{ priority: 500, src: '10.9.9.9', table: '42' }]))],
      routes: [...state.routes, ...parseRouteShow(JSON.stringify([{ dst: 'default', dev: 'wg0', table: '42', flags: [] }]))],
    };
    const previous = new Map([
      ['eth0', 0],
      ['wwan0', 1],
      ['usb0', 2],
    ]);
    expect(plan([ETH0, USB0], foreign, previous)).toEqual([
      'rule del priority 1001 from 10.64.12.7 lookup 101',
      'route del default dev wwan0 table 101',
    ]);
    expect(plan([], foreign, previous)).toEqual([
      'rule del priority 1000 from 192.168.1.20 lookup 100',
      'rule del priority 1001 from 10.64.12.7 lookup 101',
      'rule del priority 1002 from 192.168.8.100 lookup 102',
      'route del 192.168.1.0/24 dev eth0 table 100',
      'route del default via 192.168.1.1 dev eth0 table 100',
      'route del default dev wwan0 table 101',
      'route del 192.168.8.0/24 dev usb0 table 102',
      'route del default dev usb0 table 102',
    ]);
  });

  it('cleans leftovers in the range: duplicate rules, a stray route, a rule with extra selectors', () => {
    const state = settled([ETH0]);
    const messy: RoutingState = {
      rules: [
        ...state.rules,
        ...parseRuleShow(
          JSON.stringify([
            { priority: 1000, src: '192.168.1.20', table: '100' },
            { priority: 1005, src: '10.1.1.1', iif: 'eth0', table: '105' },
          ]),
        ),
      ],
      routes: [...state.routes, ...parseRouteShow(JSON.stringify([{ type: 'blackhole', dst: '10.0.0.0/8', table: '100', flags: [] }]))],
    };
    expect(plan([ETH0], messy, new Map([['eth0', 0]]))).toEqual([
      'rule del priority 1000 from 192.168.1.20 lookup 100',
      'rule del priority 1005 from 10.1.1.1 iif eth0 lookup 105',
      'route del blackhole 10.0.0.0/8 table 100',
    ]);
  });

  it('keeps slots stable: a new uplink takes a free slot, a gone one keeps its own while it is not needed', () => {
    const first = assignSlots([ETH0, WWAN0], new Map(), [], R).slots;
    expect([...first]).toEqual([
      ['eth0', 0],
      ['wwan0', 1],
    ]);
    const second = assignSlots([WWAN0, USB0], first, [], R).slots;
    expect(second.get('wwan0')).toBe(1);
    expect(second.get('usb0')).toBe(2); // not eth0's 0: it may come back
    expect(second.get('eth0')).toBe(0);
    const back = assignSlots([ETH0, WWAN0, USB0], second, [], R).slots;
    expect(back.get('eth0')).toBe(0);
  });

  it('after a restart takes over the table a rule already gives the address', () => {
    const state = settled([ETH0, USB0]); // eth0 → 100, usb0 → 101
    const { slots } = assignSlots([USB0, ETH0], new Map(), state.rules, R);
    expect(slots.get('usb0')).toBe(1);
    expect(slots.get('eth0')).toBe(0);
  });

  it('gives no table to uplinks beyond the range', () => {
    const small = { ...R, tableCount: 2 };
    const r = assignSlots([ETH0, WWAN0, USB0], new Map(), [], small);
    expect(r.unassigned).toEqual(['usb0']);
  });

  it('refuses a range over the reserved tables or past the main rule', () => {
    expect(() => checkRoutingRange({ ...R, tableBase: 250 })).toThrow(UplinkConfigError);
    expect(() => checkRoutingRange({ ...R, tableBase: 0 })).toThrow(UplinkConfigError);
    expect(() => checkRoutingRange({ ...R, priorityBase: 32760 })).toThrow(/priorityBase/);
    expect(() => checkRoutingRange({ ...R, tableCount: 0 })).toThrow(/tableCount/);
    expect(() => checkRoutingRange(R)).not.toThrow();
  });
});
