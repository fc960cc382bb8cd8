import { describe, expect, it } from 'vitest';
import { checkRoleArn, checkSecretName, defaultSecretName, parseFlowArn } from '../../../src/cloud/arn.js';
import { isWorldOpen, parseCidr } from '../../../src/cloud/cidr.js';
import { CloudInputError } from '../../../src/cloud/errors.js';

describe('CIDR blocks for the allow-list', () => {
  it('accepts IPv4 blocks and makes a bare address /32', () => {
    expect(parseCidr('203.0.113.7/32')).toBe('203.0.113.7/32');
    expect(parseCidr(' 203.0.113.0/24 ')).toBe('203.0.113.0/24');
    expect(parseCidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(parseCidr('198.51.100.9')).toBe('198.51.100.9/32');
    expect(parseCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(isWorldOpen('0.0.0.0/0')).toBe(true);
    expect(isWorldOpen('10.0.0.0/8')).toBe(false);
  });

  it('refuses what MediaConnect would not take, naming the fix', () => {
    const bad: [string, RegExp][] = [
      ['203.0.113.7/24', /host bits set: the block is 203\.0\.113\.0\/24 \(or give 203\.0\.113\.7\/32/],
      ['10.1.2.3/8', /the block is 10\.0\.0\.0\/8/],
      ['256.1.1.1/32', /not an IPv4 CIDR block/],
      ['10.0.0.0/33', /not an IPv4 CIDR block/],
      ['10.0.0.0/', /not an IPv4 CIDR block/],
      ['10.0.0.0/8/8', /not an IPv4 CIDR block/],
      ['010.0.0.1/32', /leading zero|not an IPv4/],
      ['2001:db8::/32', /IPv6/],
      ['', /not an IPv4 CIDR block/],
    ];
    for (const [text, message] of bad) {
      expect(() => parseCidr(text), text).toThrow(CloudInputError);
      expect(() => parseCidr(text), text).toThrow(message);
    }
  });
});

describe('ARNs and names', () => {
  it('reads region, account and name from a flow ARN', () => {
    expect(parseFlowArn('arn:aws:mediaconnect:us-west-2:111122223333:flow:1-23aBC45dEF67hiJ8-12AbC34DE5fG:AwardsShow')).toEqual({
      arn: 'arn:aws:mediaconnect:us-west-2:111122223333:flow:1-23aBC45dEF67hiJ8-12AbC34DE5fG:AwardsShow',
      partition: 'aws',
      region: 'us-west-2',
      account: '111122223333',
      name: 'AwardsShow',
    });
    expect(parseFlowArn('arn:aws-cn:mediaconnect:cn-north-1:111122223333:flow:1-a:b').region).toBe('cn-north-1');
    for (const bad of [
      'flow-1',
      'arn:aws:mediaconnect:us-west-2:1111:flow:1-a:b',
      'arn:aws:mediaconnect:us-west-2:111122223333:source:1-a:b',
    ])
      expect(() => parseFlowArn(bad), bad).toThrow(/not a MediaConnect flow ARN/);
  });

  it('checks role ARNs and secret names, and names the default secret after the flow', () => {
    expect(checkRoleArn('arn:aws:iam::111122223333:role/media/Reader')).toBe('arn:aws:iam::111122223333:role/media/Reader');
    expect(() => checkRoleArn('arn:aws:iam::111122223333:user/x')).toThrow(/not an IAM role ARN/);
    expect(checkSecretName('fieldcast/Show/srt-password')).toBe('fieldcast/Show/srt-password');
    expect(() => checkSecretName('has space')).toThrow(/not a Secrets Manager secret name/);
    expect(defaultSecretName(parseFlowArn('arn:aws:mediaconnect:us-west-2:111122223333:flow:1-a:Show'))).toBe(
      'fieldcast/Show/srt-password',
    );
  });
});
