import { describe, expect, it } from 'vitest';
import type { SrtNativeStats } from '../../../src/native/srt.js';
import { describeStats } from '../../../src/srt/index.js';

function sample(over: Partial<SrtNativeStats>): SrtNativeStats {
  const zero = {} as Record<string, number>;
  for (const k of [
    'intervalMs',
    'msRTT',
    'mbpsBandwidth',
    'mbpsSendRate',
    'mbpsRecvRate',
    'msSndBuf',
    'pktSent',
    'pktSndLoss',
    'pktRetransTotal',
    'pktSndDropTotal',
    'queueDroppedPackets',
  ]) {
    zero[k] = 0;
  }
  return { ...(zero as unknown as SrtNativeStats), ...over };
}

describe('describeStats', () => {
  it('summarises rate, RTT, send buffer, loss and drops for a status line', () => {
    const line = describeStats(
      sample({
        mbpsSendRate: 5.5,
        msRTT: 42.4,
        msSndBuf: 120,
        pktSent: 200,
        pktSndLoss: 3,
        pktRetransTotal: 9,
        pktSndDropTotal: 1,
        queueDroppedPackets: 2,
      }),
    );
    expect(line).toBe('5.50 Mbit/s, RTT 42 ms, buffer 120 ms, loss 1.5%, retrans 9, dropped 3');
  });

  it('shows the receive rate on a receiving connection and no loss when nothing was sent', () => {
    expect(describeStats(sample({ mbpsRecvRate: 2 }))).toBe('2.00 Mbit/s, RTT 0 ms, buffer 0 ms, loss 0.0%, retrans 0, dropped 0');
  });
});
