/**
 * `fieldcast cloud setup|status` with the real AWS SDK v3 clients talking to
 * a local endpoint (aws-endpoint.ts) that checks every request against the
 * MediaConnect, Secrets Manager and CloudWatch API references and answers
 * with their documented response shapes. This proves the requests Fieldcast
 * sends and how it reads the answers — not AWS itself: no flow, secret or
 * metric at AWS was touched, and what AWS does beyond its documented shapes
 * is not tested here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsClients,
  CloudAuthError,
  CloudInputError,
  CloudNotFoundError,
  describeIngest,
  parseFlowArn,
  readIngestView,
  type SetupFlags,
  setupFlow,
  setupOptions,
} from '../../src/cloud/index.js';
import { validateConfig } from '../../src/config/index.js';
import { skipWithout } from '../peers.js';
import { AwsTestEndpoint, isolatedAwsEnv, TEST_CREDENTIALS, TEST_REGION } from './aws-endpoint.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/fieldcast.js');
const PASSPHRASE = 'correct horse battery staple';
const ROLE = 'arn:aws:iam::111122223333:role/FieldcastMediaConnectSecrets';

let aws: AwsTestEndpoint;
beforeEach(async () => {
  aws = await AwsTestEndpoint.start();
});
afterEach(async () => {
  await aws.close();
});

function clients(credentials = TEST_CREDENTIALS): AwsClients {
  return new AwsClients({ region: TEST_REGION, endpoint: aws.url, credentials });
}

async function run(flags: SetupFlags, creds = TEST_CREDENTIALS) {
  const c = clients(creds);
  try {
    return await setupFlow(c, await setupOptions(flags, undefined), { settlePollMs: 10 });
  } finally {
    c.close();
  }
}

const CHANGES = new Set(['CreateSecret', 'PutSecretValue', 'UpdateFlowSource', 'StartFlow', 'UpdateFlow', 'AddFlowSources']);
const changeRequests = () => aws.operations().filter((o) => CHANGES.has(o));

describe('fieldcast cloud setup against a local endpoint checking the documented request shapes', () => {
  it('sets a Zixi source up as an SRT listener with its password in a new secret, starts the flow, and a second run changes nothing', async () => {
    const flow = aws.addFlow('AwardsShow');
    const flags: SetupFlags = {
      flow: flow.flowArn,
      port: '5000',
      cidr: '203.0.113.7/32',
      latencyMs: '2000',
      streamId: '#!::r=awards,m=publish',
      passphraseText: `${PASSPHRASE}\n`,
      roleArn: ROLE,
      start: true,
    };
    const first = await run(flags);
    expect(aws.violations).toEqual([]);
    expect(aws.operations()).toEqual(['DescribeFlow', 'DescribeSecret', 'CreateSecret', 'UpdateFlowSource', 'DescribeFlow', 'StartFlow']);
    const secret = aws.secrets.get('fieldcast/AwardsShow/srt-password');
    expect(secret?.value).toBe(PASSPHRASE);
    const s = flow.source;
    expect(s.transport).toMatchObject({ protocol: 'srt-listener', minLatency: 2000, streamId: '#!::r=awards,m=publish' });
    expect(s).toMatchObject({ ingestPort: 5000, whitelistCidr: '203.0.113.7/32' });
    expect(s.decryption).toEqual({ keyType: 'srt-password', roleArn: ROLE, secretArn: secret?.arn });
    expect(first.changes).toBe(3);
    const text = first.lines.join('\n');
    expect(text).toContain('Created the secret fieldcast/AwardsShow/srt-password');
    expect(text).toContain('protocol srt-listener (was zixi-push)');
    expect(text).toContain('ingest port 5000 (was 2088)');
    expect(text).toContain('Started the flow');
    expect(text).toContain('srt://198.51.100.20:5000');
    expect(text).not.toContain(PASSPHRASE);

    aws.requests.length = 0;
    const second = await run(flags);
    expect(aws.violations).toEqual([]);
    expect(changeRequests()).toEqual([]);
    expect(aws.operations()).toEqual(['DescribeFlow', 'DescribeSecret', 'GetSecretValue']);
    expect(second.changes).toBe(0);
    expect(second.lines.join('\n')).toContain('Nothing changed.');
    expect(second.lines.join('\n')).toContain('already ACTIVE');

    // A new passphrase is the one change of a third run: the source already reads that secret.
    aws.requests.length = 0;
    const third = await run({ ...flags, passphraseText: 'another passphrase, longer' });
    expect(changeRequests()).toEqual(['PutSecretValue']);
    expect(secret?.value).toBe('another passphrase, longer');
    expect(third.lines.join('\n')).not.toContain('another passphrase');
  });

  it('updates only the fields that differ, and keeps the port of a source that already listens for SRT', async () => {
    const flow = aws.addFlow('Match', {
      ingestPort: 7000,
      whitelistCidr: '203.0.113.0/24',
      transport: { protocol: 'srt-listener', minLatency: 1500 },
    });
    await run({ flow: flow.flowArn, cidr: '198.51.100.9/32' });
    expect(aws.violations).toEqual([]);
    const put = aws.requests.find((r) => r.operation === 'UpdateFlowSource');
    expect(JSON.parse(put?.body ?? '{}')).toEqual({ whitelistCidr: '198.51.100.9/32' });
    expect(flow.source.ingestPort).toBe(7000);
  });

  it('bad credentials give a clear message and change nothing', async () => {
    const flow = aws.addFlow('Creds');
    const wrongKey = run(
      { flow: flow.flowArn, port: '5000', cidr: '203.0.113.7/32' },
      { ...TEST_CREDENTIALS, accessKeyId: 'AKIDNOSUCHKEY0000000' },
    );
    await expect(wrongKey).rejects.toBeInstanceOf(CloudAuthError);
    await expect(wrongKey).rejects.toThrow(
      'did not accept the credentials while reading the flow (DescribeFlow) (UnrecognizedClientException: The security token included in the request is invalid.)',
    );
    const wrongSecret = run(
      { flow: flow.flowArn, port: '5000', cidr: '203.0.113.7/32' },
      { ...TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' },
    );
    await expect(wrongSecret).rejects.toThrow(
      'did not accept the credentials while reading the flow (DescribeFlow) (InvalidSignatureException: The request signature we calculated does not match',
    );
    await expect(wrongSecret).rejects.toMatchObject({ code: 'CLOUD_AUTH_FAILED' });
    expect(changeRequests()).toEqual([]);
    expect(flow.source.transport?.protocol).toBe('zixi-push');
  });

  it('a flow that does not exist gives a clear message', async () => {
    const missing = `arn:aws:mediaconnect:${TEST_REGION}:111122223333:flow:1-abcdef0123456789-0123456789ab:Gone`;
    const r = run({ flow: missing, port: '5000', cidr: '203.0.113.7/32' });
    await expect(r).rejects.toBeInstanceOf(CloudNotFoundError);
    await expect(r).rejects.toThrow(
      `flow ${missing} was not found while reading the flow (DescribeFlow) (NotFoundException: Flow not found: ${missing})`,
    );
    expect(aws.violations).toEqual([]);
  });

  it('throttling (429 TooManyRequestsException) is retried by the SDK and setup then succeeds', async () => {
    const flow = aws.addFlow('Busy');
    aws.fail('DescribeFlow', 2, 429, 'TooManyRequestsException', 'Too many requests, please wait');
    const r = await run({ flow: flow.flowArn, port: '5000', cidr: '203.0.113.7/32' });
    expect(aws.operations()).toEqual(['DescribeFlow', 'DescribeFlow', 'DescribeFlow', 'UpdateFlowSource']);
    expect(r.changes).toBe(1);
    expect(flow.source.transport?.protocol).toBe('srt-listener');
  });

  it('throttling that outlasts the retries gives a clear message and changes nothing', async () => {
    const flow = aws.addFlow('Swamped');
    aws.fail('DescribeFlow', 10, 429, 'TooManyRequestsException', 'Too many requests, please wait');
    const r = run({ flow: flow.flowArn, port: '5000', cidr: '203.0.113.7/32' });
    await expect(r).rejects.toMatchObject({ code: 'CLOUD_THROTTLED' });
    await expect(r).rejects.toThrow(/too many requests, after 3 tries; wait a minute/);
    expect(changeRequests()).toEqual([]);
  });

  it('an invalid CIDR, ARN, port or passphrase is refused before any request', async () => {
    const flow = aws.addFlow('Strict');
    const bad: [Partial<SetupFlags>, RegExp][] = [
      [{ cidr: '203.0.113.7/24' }, /host bits set: the block is 203\.0\.113\.0\/24/],
      [{ cidr: '300.1.2.3/32' }, /not an IPv4 CIDR block/],
      [{ cidr: '2001:db8::/32' }, /IPv6/],
      [{ port: '2088' }, /not 2077 or 2088/],
      [{ passphraseText: 'short' }, /10 to 80 characters/],
      [{ flow: 'arn:aws:s3:::bucket' }, /not a MediaConnect flow ARN/],
    ];
    for (const [f, message] of bad) {
      const p = setupOptions({ flow: flow.flowArn, port: '5000', cidr: '203.0.113.7/32', ...f }, undefined);
      await expect(p).rejects.toBeInstanceOf(CloudInputError);
      await expect(p).rejects.toThrow(message);
    }
    expect(aws.requests).toEqual([]);
  });

  it('takes the latency, stream id, passphrase and the bonding receiver as allowed sender from the box config', async () => {
    const config = validateConfig({
      destinations: [{ url: 'srt://192.0.2.44:4000', latencyMs: 2500, passphrase: PASSPHRASE, streamId: 'cam1' }],
      bond: { enabled: true },
    });
    const o = await setupOptions({ flow: aws.addFlow('Cfg').flowArn, port: '5000' }, config);
    expect(o).toMatchObject({ whitelistCidr: '192.0.2.44/32', minLatency: 2500, streamId: 'cam1', ingestPort: 5000 });
    expect(o.cidrFrom).toContain('bonding receiver');
    expect(o.passphrase?.reveal()).toBe(PASSPHRASE);
    expect(String(o.passphrase)).toBe('[redacted]');
    // Sent straight from the box, the destination is the flow itself: its port, and no sender address to allow.
    const direct = validateConfig({ destinations: [{ url: 'srt://198.51.100.20:5000' }] });
    await expect(setupOptions({ flow: aws.addFlow('Direct').flowArn }, direct)).rejects.toThrow(
      /give --cidr: the box sends straight to the flow/,
    );
    const d = await setupOptions({ flow: aws.addFlow('Direct2').flowArn, cidr: '0.0.0.0/0' }, direct);
    expect(d).toMatchObject({ ingestPort: 5000, minLatency: 1500, whitelistCidr: '0.0.0.0/0' });
    expect(aws.requests).toEqual([]);
  });

  it('takes the second destination with --destination 1 (a flow source each), and refuses one the config does not have', async () => {
    const two = validateConfig({
      destinations: [
        { name: 'a', url: 'srt://198.51.100.20:5000', latencyMs: 2000, streamId: 'cam1-a' },
        { name: 'b', url: 'srt://198.51.100.21:5001', latencyMs: 3000, streamId: 'cam1-b' },
      ],
    });
    const second = await setupOptions({ flow: aws.addFlow('Two').flowArn, cidr: '203.0.113.7/32', destination: '1' }, two);
    expect(second).toMatchObject({ ingestPort: 5001, minLatency: 3000, streamId: 'cam1-b' });
    const first = await setupOptions({ flow: aws.addFlow('Two0').flowArn, cidr: '203.0.113.7/32' }, two);
    expect(first).toMatchObject({ ingestPort: 5000, minLatency: 2000, streamId: 'cam1-a' });
    const one = validateConfig({ destinations: [{ url: 'srt://198.51.100.20:5000' }] });
    await expect(setupOptions({ flow: aws.addFlow('One').flowArn, cidr: '203.0.113.7/32', destination: '1' }, one)).rejects.toThrow(
      /the config has no destinations\.1/,
    );
    await expect(setupOptions({ flow: aws.addFlow('Bad').flowArn, cidr: '203.0.113.7/32', destination: '2' }, two)).rejects.toThrow(
      /--destination must be 0 or 1/,
    );
    expect(aws.requests).toEqual([]);
  });
});

describe("fieldcast cloud setup: a flow's second source (the box's second destination)", () => {
  const second = (flow: string, extra: Partial<SetupFlags> = {}): SetupFlags => ({
    flow,
    source: 'backup',
    failover: 'merge',
    recoveryWindowMs: '400',
    port: '5001',
    cidr: '203.0.113.7/32',
    latencyMs: '2000',
    passphraseText: 'the second destination passphrase',
    ...extra,
  });

  it('turns MERGE failover on, then adds the source as an SRT listener with its own secret; a second run changes nothing', async () => {
    const flow = aws.addFlow('Merged', {
      ingestPort: 5000,
      whitelistCidr: '203.0.113.7/32',
      transport: { protocol: 'srt-listener', minLatency: 2000 },
      decryption: { keyType: 'srt-password', roleArn: ROLE, secretArn: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:x' },
    });
    const first = await run(second(flow.flowArn));
    expect(aws.violations).toEqual([]);
    expect(changeRequests()).toEqual(['UpdateFlow', 'CreateSecret', 'AddFlowSources']);
    expect(flow.sourceFailoverConfig).toMatchObject({ state: 'ENABLED', failoverMode: 'MERGE', recoveryWindow: 400 });
    expect(flow.sources?.map((x) => x.name)).toEqual([flow.source.name, 'backup']);
    const added = flow.sources![1]!;
    const secret = aws.secrets.get('fieldcast/Merged/srt-password-backup');
    expect(secret?.value).toBe('the second destination passphrase');
    expect(added).toMatchObject({ ingestPort: 5001, whitelistCidr: '203.0.113.7/32' });
    expect(added.transport).toMatchObject({ protocol: 'srt-listener', minLatency: 2000 });
    // The role the first source reads its password with reads the second's too.
    expect(added.decryption).toEqual({ keyType: 'srt-password', roleArn: ROLE, secretArn: secret?.arn });
    const text = first.lines.join('\n');
    expect(text).toContain('it has no source "backup" yet');
    expect(text).toContain('Turned source failover on in MERGE mode');
    expect(text).toContain('recovery window 400 ms');
    expect(text).toContain('Added the source "backup"');
    expect(text).toContain('srt://198.51.100.20:5001');
    expect(text).not.toContain('the second destination passphrase');

    aws.requests.length = 0;
    const again = await run(second(flow.flowArn));
    expect(aws.violations).toEqual([]);
    expect(changeRequests()).toEqual([]);
    expect(again.changes).toBe(0);
    expect(again.lines.join('\n')).toContain('Source failover is already on in MERGE mode');
    expect(flow.sources?.length).toBe(2);
  });

  it('refuses a third source, a missing source without --failover, and a recovery window without MERGE, with what to do', async () => {
    const flow = aws.addFlow('Full', { transport: { protocol: 'srt-listener', minLatency: 2000 }, ingestPort: 5000 });
    await run(second(flow.flowArn, { passphraseText: undefined }));
    expect(flow.sources?.length).toBe(2);
    aws.requests.length = 0;
    await expect(run(second(flow.flowArn, { source: 'third', passphraseText: undefined }))).rejects.toThrow(
      /already has 2 sources .*a flow takes two at most/,
    );
    await expect(run({ flow: flow.flowArn, source: 'other', cidr: '203.0.113.7/32' })).rejects.toThrow(
      /no source named "other".*give --failover merge/,
    );
    expect(changeRequests()).toEqual([]);
    await expect(setupOptions(second(flow.flowArn, { failover: 'failover' }), undefined)).rejects.toThrow(
      /--recovery-window is a MERGE setting/,
    );
    await expect(setupOptions(second(flow.flowArn, { failover: 'both' }), undefined)).rejects.toThrow(
      /--failover must be merge or failover/,
    );
    await expect(setupOptions(second(flow.flowArn, { recoveryWindowMs: '50' }), undefined)).rejects.toThrow(/--recovery-window/);
    await expect(setupOptions({ flow: flow.flowArn, cidr: '203.0.113.7/32', recoveryWindowMs: '400' }, undefined)).rejects.toThrow(
      /--recovery-window goes with --failover merge/,
    );
  });

  it("the endpoint holds MediaConnect's rule: no second source while failover is off", async () => {
    const flow = aws.addFlow('Strict');
    const c = clients();
    try {
      const { addSourceCommand } = await import('../../src/cloud/setup.js');
      await expect(
        c.mediaconnect.send(addSourceCommand(flow.flowArn, 'b', { ingestPort: 5001, whitelistCidr: '203.0.113.7/32', minLatency: 2000 })),
      ).rejects.toThrow(/source failover ENABLED/);
    } finally {
      c.close();
    }
    expect(flow.sources?.length).toBe(1);
  });
});

describe('fieldcast cloud status against the local endpoint', () => {
  it("reads the flow and CloudWatch's source metrics and says them in plain words", async () => {
    const flow = aws.addFlow(
      'Live',
      { ingestPort: 5000, whitelistCidr: '203.0.113.7/32', transport: { protocol: 'srt-listener', minLatency: 2000 } },
      'ACTIVE',
    );
    const now = new Date('2026-12-03T09:00:30Z');
    const minute = (ago: number) => new Date(Date.UTC(2026, 11, 3, 9, 0) - ago * 60_000);
    aws.datapoints.set('SourceBitRate', [
      { at: minute(1), value: 4_500_000 },
      { at: minute(2), value: 4_400_000 },
    ]);
    aws.datapoints.set('SourcePacketLossPercent', [{ at: minute(1), value: 0.25 }]);
    aws.datapoints.set('SourceRoundTripTime', [{ at: minute(1), value: 84 }]);
    aws.datapoints.set('SourceConnected', [{ at: minute(1), value: 1 }]);
    aws.datapoints.set('SourceRecoveredPackets', [
      { at: minute(1), value: 40 },
      { at: minute(2), value: 80 },
    ]);
    aws.datapoints.set('SourceContinuityCounter', [{ at: minute(2), value: 3 }]);
    const c = clients();
    try {
      const view = await readIngestView(c, parseFlowArn(flow.flowArn), { now: () => now });
      expect(aws.violations).toEqual([]);
      expect(aws.operations()).toEqual(['DescribeFlow', 'GetMetricData']);
      const form = new URLSearchParams(aws.requests[1]?.body);
      expect(form.get('MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Value')).toBe(flow.source.sourceArn);
      expect(form.get('EndTime')).toBe('2026-12-03T09:00:00Z');
      const text = describeIngest(view).join('\n');
      expect(text).toContain('Flow Live: running (ACTIVE).');
      expect(text).toContain('SRT password');
      expect(text).toContain('The ingest receives 4.50 Mbit/s (minute of 08:59 UTC).');
      expect(text).toContain('packet loss 0.25%, round trip 84 ms');
      expect(text).toContain('120 recovered by retransmission');
      expect(text).toContain('TR 101 290 errors in the last 5 minutes: ContinuityCounter 3.');
    } finally {
      c.close();
    }
  });

  it('says so when CloudWatch has nothing for the source', async () => {
    const flow = aws.addFlow('Quiet');
    const c = clients();
    try {
      const text = describeIngest(await readIngestView(c, parseFlowArn(flow.flowArn))).join('\n');
      expect(text).toContain('stopped (STANDBY)');
      expect(text).toContain('nothing has reached the ingest (the flow is not running)');
    } finally {
      c.close();
    }
  });
});

const skipCli = skipWithout('fieldcast cloud (CLI)', existsSync(path.join(ROOT, 'dist/cli/cloud.js')) ? [] : ['dist/ (npm run build:ts)']);

describe.skipIf(skipCli)('fieldcast cloud as an operator runs it', () => {
  /** An environment with no AWS credentials or config of the user's. */
  const bareEnv = (extra: Record<string, string> = {}) => isolatedAwsEnv(aws.url, extra);

  function cli(args: string[], env: NodeJS.ProcessEnv) {
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // Asynchronous: the endpoint answers from this process.
      execFile(process.execPath, [CLI, 'cloud', ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('--dry-run prints the requests with the passphrase only as set, needs no credentials and sends nothing', async () => {
    const flow = aws.addFlow('Dry');
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-cloud-'));
    writeFileSync(path.join(dir, 'pass'), `${PASSPHRASE}\n`);
    const r = await cli(
      [
        'setup',
        '--flow',
        flow.flowArn,
        '--port',
        '5000',
        '--cidr',
        '203.0.113.7/32',
        '--passphrase-file',
        path.join(dir, 'pass'),
        '--role-arn',
        ROLE,
        '--start',
        '--dry-run',
      ],
      bareEnv(),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no credentials are needed');
    expect(r.stdout).toContain(`UpdateFlowSource: PUT ${aws.url}/v1/flows/${flow.flowArn}/source/`);
    expect(r.stdout).toContain('"ingestPort":5000');
    expect(r.stdout).toContain('"protocol":"srt-listener"');
    expect(r.stdout).toContain('"SecretString":"(set)"');
    expect(r.stdout).toContain(`StartFlow: POST ${aws.url}/v1/flows/start/${flow.flowArn}`);
    expect(r.stdout + r.stderr).not.toContain(PASSPHRASE);
    expect(aws.requests).toEqual([]);

    const add = await cli(
      [
        'setup',
        '--flow',
        flow.flowArn,
        '--port',
        '5001',
        '--cidr',
        '203.0.113.7/32',
        '--source',
        'backup',
        '--failover',
        'merge',
        '--dry-run',
      ],
      bareEnv(),
    );
    expect(add.status).toBe(0);
    expect(add.stdout).toContain(`UpdateFlow: PUT ${aws.url}/v1/flows/${flow.flowArn}`);
    expect(add.stdout).toContain('"sourceFailoverConfig":{"failoverMode":"MERGE","state":"ENABLED"}');
    expect(add.stdout).toContain(`AddFlowSources: POST ${aws.url}/v1/flows/${flow.flowArn}/source`);
    expect(add.stdout).toContain('"name":"backup"');
    expect(aws.requests).toEqual([]);
  });

  it('an invalid CIDR is refused with its reason before any request', async () => {
    const flow = aws.addFlow('Cidr');
    const r = await cli(
      ['setup', '--flow', flow.flowArn, '--port', '5000', '--cidr', '10.1.2.3/8'],
      bareEnv({ AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey }),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fieldcast cloud: CLOUD_INPUT_INVALID: "10.1.2.3/8" has host bits set: the block is 10.0.0.0/8');
    expect(aws.requests).toEqual([]);
  });

  it('setup and status with credentials from the environment, as on the receiver VM', async () => {
    const flow = aws.addFlow('Env');
    const env = bareEnv({ AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey });
    const r = await cli(['setup', '--flow', flow.flowArn, '--port', '5000', '--cidr', '203.0.113.7/32', '--start'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Started the flow');
    const s = await cli(['status', '--flow', flow.flowArn], env);
    expect(s.status).toBe(0);
    expect(s.stdout).toContain('Flow Env: running (ACTIVE).');
    expect(aws.violations).toEqual([]);
  });

  it('no credentials at all: a clear message naming where they come from', async () => {
    const flow = aws.addFlow('NoCreds');
    const r = await cli(['status', '--flow', flow.flowArn], bareEnv());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CLOUD_AUTH_FAILED: no AWS credentials found while reading the flow (DescribeFlow)');
    expect(r.stderr).toContain('AWS_PROFILE');
  });
});
