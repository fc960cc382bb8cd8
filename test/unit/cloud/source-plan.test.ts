import { describe, expect, it } from 'vitest';
import type { SourceView } from '../../../src/cloud/flow.js';
import { planSecret } from '../../../src/cloud/secret.js';
import { type DesiredSource, describeChanges, hasChanges, planSource } from '../../../src/cloud/source-plan.js';

const ROLE = 'arn:aws:iam::111122223333:role/R';
const SECRET = 'arn:aws:secretsmanager:us-west-2:111122223333:secret:fieldcast/Show/srt-password-AbC123';

const want: DesiredSource = {
  ingestPort: 5000,
  whitelistCidr: '203.0.113.7/32',
  minLatency: 2000,
  streamId: 'cam1',
  decryption: { roleArn: ROLE, secretArn: SECRET },
};

const listening: SourceView = {
  arn: 'arn:aws:mediaconnect:us-west-2:111122223333:source:1-a:encoder',
  name: 'encoder',
  protocol: 'srt-listener',
  ingestIp: '198.51.100.20',
  ingestPort: 5000,
  whitelistCidr: '203.0.113.7/32',
  minLatency: 2000,
  streamId: 'cam1',
  decryption: { keyType: 'srt-password', roleArn: ROLE, secretArn: SECRET },
};

describe('the source plan', () => {
  it('finds nothing to change when the source already is what is asked for', () => {
    expect(planSource(listening, want)).toEqual({});
    expect(hasChanges(planSource(listening, want))).toBe(false);
  });

  it('changes only what differs, and says what it was', () => {
    const c = planSource({ ...listening, whitelistCidr: '0.0.0.0/0', minLatency: 120 }, want);
    expect(c).toEqual({ whitelistCidr: '203.0.113.7/32', minLatency: 2000 });
    expect(describeChanges(c, { ...listening, whitelistCidr: '0.0.0.0/0', minLatency: 120 })).toEqual([
      'senders allowed from 203.0.113.7/32 (was 0.0.0.0/0)',
      'minimum latency 2000 ms (was 120)',
    ]);
  });

  it('sets every field when the source speaks another protocol or is not known (a dry run)', () => {
    const all = {
      protocol: 'srt-listener',
      ingestPort: 5000,
      whitelistCidr: '203.0.113.7/32',
      minLatency: 2000,
      streamId: 'cam1',
      decryption: { keyType: 'srt-password', roleArn: ROLE, secretArn: SECRET },
    };
    expect(planSource({ ...listening, protocol: 'zixi-push' }, want)).toEqual(all);
    expect(planSource(undefined, want)).toEqual(all);
  });

  it('leaves the stream id and the password alone when none is given', () => {
    expect(
      planSource({ ...listening, streamId: 'other', decryption: undefined }, { ...want, streamId: undefined, decryption: undefined }),
    ).toEqual({});
  });

  it('points the source at another secret or role when asked', () => {
    expect(planSource(listening, { ...want, decryption: { roleArn: ROLE, secretArn: `${SECRET}x` } })).toEqual({
      decryption: { keyType: 'srt-password', roleArn: ROLE, secretArn: `${SECRET}x` },
    });
  });
});

describe('the secret plan', () => {
  it('creates a missing secret, stores a different passphrase, and leaves a matching one', () => {
    expect(planSecret({ kind: 'absent', id: 'fieldcast/Show/srt-password' }, 'fieldcast/Show/srt-password')).toEqual({
      kind: 'create',
      name: 'fieldcast/Show/srt-password',
    });
    // The source's secret was deleted: a new one under the default name.
    expect(planSecret({ kind: 'absent', id: SECRET }, 'fieldcast/Show/srt-password')).toEqual({
      kind: 'create',
      name: 'fieldcast/Show/srt-password',
    });
    expect(planSecret({ kind: 'present', id: 'x', arn: SECRET, name: 'x', same: false }, 'n')).toEqual({ kind: 'put', id: SECRET });
    expect(planSecret({ kind: 'present', id: 'x', arn: SECRET, name: 'x', same: true }, 'n')).toEqual({ kind: 'none', arn: SECRET });
  });
});
