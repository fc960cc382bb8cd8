import { describe, expect, it } from 'vitest';
import { accessTechnologyFromAct, parseCops, parseRegistrationReply } from '../../../../src/uplinks/modems/network.js';
import { overallRegistration, parseRegistration, registrationState } from '../../../../src/uplinks/modems/registration.js';

describe('registration', () => {
  it('decodes <stat> (TS 27.007 §7.2)', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map(registrationState)).toEqual([
      'not-registered',
      'home',
      'searching',
      'denied',
      'unknown',
      'roaming',
      'home',
      'roaming',
      'emergency-only',
    ]);
  });

  it('reads the solicited reply, which starts with <n>, and the URC, which does not', () => {
    expect(parseRegistrationReply('eps', ['+CEREG: 2,5,"2B0D","0132F10B",7'])).toEqual({
      domain: 'eps',
      state: 'roaming',
      stat: 5,
      areaCode: '2B0D',
      cellId: '0132F10B',
      act: 7,
    });
    expect(parseRegistrationReply('cs', ['+CREG: 0,1'])).toEqual({ domain: 'cs', state: 'home', stat: 1 });
    expect(parseRegistration('5gs', '3', false)).toEqual({ domain: '5gs', state: 'denied', stat: 3 });
    expect(parseRegistrationReply('5gs', ['+CEREG: 0,1'])).toBeUndefined();
  });

  it('is registered for data when any domain is', () => {
    const cs = parseRegistration('cs', '3', false)!;
    const eps = parseRegistration('eps', '1', false)!;
    const nr = parseRegistration('5gs', '2', false)!;
    expect(overallRegistration([cs, eps, nr])).toBe('home');
    expect(overallRegistration([cs, nr])).toBe('searching');
    expect(overallRegistration([])).toBe('unknown');
  });
});

describe('operator', () => {
  it('reads AT+COPS? and its access technology', () => {
    expect(parseCops(['+COPS: 0,0,"Vodafone UK",7'])).toEqual({ mode: 'automatic', name: 'Vodafone UK', act: 7, accessTechnology: 'LTE' });
    expect(parseCops(['+COPS: 0,0,"T-Mobile",13'])?.accessTechnology).toBe('NR5G-NSA');
    expect(parseCops(['+COPS: 0,0,"999 70 Magic",11'])?.accessTechnology).toBe('NR5G-SA');
    expect(parseCops(['+COPS: 2'])).toEqual({ mode: 'deregistered' });
    expect(accessTechnologyFromAct(2)).toBe('UMTS');
    expect(accessTechnologyFromAct(6)).toBe('HSPA');
    expect(accessTechnologyFromAct(42)).toBe('unknown');
  });
});
