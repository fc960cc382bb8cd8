import { describe, expect, it } from 'vitest';
import { applySettings, ConfigInvalidError, parseAssignment, validateConfig } from '../../../src/config/index.js';

const one = () => validateConfig({ destinations: [{ name: 'main', url: 'srt://flow-a.example.com:5000' }] });

function refusal(fn: () => unknown): ConfigInvalidError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigInvalidError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('two destinations in the config', () => {
  it('ctl set destinations.1.url adds a second destination, named apart from the first', () => {
    const c = applySettings(one(), [parseAssignment('destinations.1.url=srt://flow-b.example.com:5000')]);
    expect(c.destinations).toHaveLength(2);
    expect(c.destinations[1]).toMatchObject({ name: 'ingest-2', url: 'srt://flow-b.example.com:5000', latencyMs: 1500 });
    expect(c.destinations[0]?.name).toBe('main');
  });

  it('refuses a third destination, saying how many a flow takes', () => {
    const two = applySettings(one(), [parseAssignment('destinations.1.url=srt://flow-b.example.com:5000')]);
    const e = refusal(() => applySettings(two, [parseAssignment('destinations.2.url=srt://flow-c.example.com:5000')]));
    expect(e.problems[0]).toMatchObject({ key: 'destinations' });
    expect(e.message).toMatch(/at most 2 destinations \(a MediaConnect flow takes two sources\)/);
  });

  it('refuses two destinations naming the same listener, whatever their options', () => {
    const e = refusal(() => applySettings(one(), [parseAssignment('destinations.1.url=srt://FLOW-A.example.com:5000?latency=200')]));
    expect(e.problems[0]).toMatchObject({ key: 'destinations.1.url' });
    expect(e.message).toMatch(/a listener no other destination has \(destinations\.0\.url is the same\)/);
  });

  it('refuses two destinations of the same name', () => {
    const e = refusal(() =>
      validateConfig({
        destinations: [
          { name: 'main', url: 'srt://flow-a.example.com:5000' },
          { name: 'main', url: 'srt://flow-b.example.com:5000' },
        ],
      }),
    );
    expect(e.problems[0]).toMatchObject({ key: 'destinations.1.name', expected: 'a name no other destination has' });
  });

  it('refuses two bonded destinations with its own code, rather than bonding only one', () => {
    const two = applySettings(one(), [parseAssignment('destinations.1.url=srt://flow-b.example.com:5000')]);
    const e = refusal(() => applySettings(two, [parseAssignment('bond.enabled=true')]));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems[0]).toMatchObject({ key: 'destinations.1', code: 'BOND_ONE_DESTINATION' });
    expect(e.message).toMatch(/\[BOND_ONE_DESTINATION\] one destination when bond.enabled/);
    // It says where the second listener goes: the receiver sends the one stream on to both.
    expect(e.message).toMatch(/fieldcast receive --forward srt:\/\/FIRST:PORT --forward srt:\/\/SECOND:PORT/);
    // One bonded destination is fine.
    expect(applySettings(one(), [parseAssignment('bond.enabled=true')]).bond.enabled).toBe(true);
  });
});
