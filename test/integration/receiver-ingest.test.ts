/**
 * `fieldcast receive --flow`: the ingest's own view (the MediaConnect flow's
 * state and its CloudWatch source metrics) in the receiver's /metrics, read
 * by the real AWS SDK from the local endpoint of aws-endpoint.ts, which
 * checks the requests against the API references. It proves the requests
 * and what the receiver exports from the documented answers, not AWS. Also:
 * with AWS unreachable or slow, /metrics says so and the receiver keeps
 * forwarding.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { skipWithout } from '../peers.js';
import { AwsTestEndpoint, isolatedAwsEnv, TEST_CREDENTIALS } from './aws-endpoint.js';
import { FakeListener, freeTcpPort, missingBuild, Opened, registerGroup, startReceiver, TestLink, waitUntil } from './receiver-helpers.js';

const skip = skipWithout('fieldcast receive --flow (CLI)', missingBuild());

const opened = new Opened();
afterEach(() => opened.closeAll());

function awsEnv(endpoint: string): NodeJS.ProcessEnv {
  return isolatedAwsEnv(endpoint, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });
}

async function endpoint(): Promise<AwsTestEndpoint> {
  const aws = await AwsTestEndpoint.start();
  opened.add(() => aws.close());
  return aws;
}

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
}

async function receiverFor(flowArn: string, awsUrl: string) {
  const listener = await FakeListener.open(opened);
  const metricsPort = await freeTcpPort();
  const rx = await startReceiver(
    listener.port,
    ['--metrics-port', String(metricsPort), '--flow', flowArn, '--flow-interval', '10'],
    opened,
    awsEnv(awsUrl),
  );
  return { listener, rx, metricsPort };
}

/** The receiver still does its job: a group registers and its packets reach the listener. */
async function forwards(rxPort: number, listener: FakeListener): Promise<void> {
  const link = await TestLink.open(rxPort, opened);
  await registerGroup([link]);
  for (let i = 0; i < 20; i++) void link.data(i, 1316);
  await waitUntil('20 packets at the listener', () => listener.packets.length >= 20);
}

describe.skipIf(skip)('fieldcast receive --flow: the ingest view in /metrics', () => {
  it("exports the flow's state and CloudWatch's latest minute beside the receiver's own figures", async () => {
    const aws = await endpoint();
    const flow = aws.addFlow(
      'Venue',
      { ingestPort: 5000, whitelistCidr: '203.0.113.7/32', transport: { protocol: 'srt-listener', minLatency: 2000 } },
      'ACTIVE',
    );
    const lastMinute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    aws.datapoints.set('SourceBitRate', [{ at: lastMinute, value: 4_500_000 }]);
    aws.datapoints.set('SourceRoundTripTime', [{ at: lastMinute, value: 84 }]);
    aws.datapoints.set('SourceRecoveredPackets', [{ at: lastMinute, value: 12 }]);
    aws.datapoints.set('SourceContinuityCounter', [{ at: lastMinute, value: 2 }]);
    const { listener, rx, metricsPort } = await receiverFor(flow.flowArn, aws.url);
    expect(rx.output()).toContain('the ingest view of flow Venue (us-west-2) every 10 s');
    await waitUntil('fieldcast_ingest_up 1', async () => /^fieldcast_ingest_up 1$/m.test(await metrics(metricsPort)), 15_000);
    const text = await metrics(metricsPort);
    expect(text).toMatch(/^fieldcast_ingest_flow_status\{status="ACTIVE"\} 1$/m);
    expect(text).toMatch(/^fieldcast_ingest_flow_status\{status="STANDBY"\} 0$/m);
    expect(text).toMatch(/^fieldcast_ingest_source_bit_rate_bits_per_second 4500000$/m);
    expect(text).toMatch(/^fieldcast_ingest_source_round_trip_seconds 0\.084$/m);
    expect(text).toMatch(/^fieldcast_ingest_source_packets_per_minute\{kind="recovered"\} 12$/m);
    expect(text).toMatch(/^fieldcast_ingest_source_tr101290_errors_per_minute\{check="ContinuityCounter"\} 2$/m);
    expect(text).toMatch(/^fieldcast_ingest_metrics_minute_timestamp_seconds \d+$/m);
    expect(text).toMatch(/^fieldcast_receive_uptime_seconds /m);
    const json = (await (await fetch(`http://127.0.0.1:${metricsPort}/ingest.json`)).json()) as { state: string; flowArn: string };
    expect(json).toMatchObject({ state: 'ok', flowArn: flow.flowArn });
    expect(aws.violations).toEqual([]);
    expect(aws.operations()).toEqual(['DescribeFlow', 'GetMetricData']);
    await forwards(rx.port, listener);
    // The AWS SDK is loaded, the media addon still is not.
    expect(readFileSync(`/proc/${rx.child.pid}/maps`, 'utf8')).not.toMatch(/fieldcast(_srt)?\.node|libsrt|libavcodec/);
    expect(await rx.stop()).toBe(0);
  });

  it('with AWS unreachable: up 0 and the reason, no stale figures, and the receiver keeps forwarding', async () => {
    const closedPort = await freeTcpPort();
    const arn = 'arn:aws:mediaconnect:us-west-2:111122223333:flow:1-abcdef0123456789-0123456789ab:Venue';
    const { listener, rx, metricsPort } = await receiverFor(arn, `http://127.0.0.1:${closedPort}`);
    await waitUntil('fieldcast_ingest_up 0', async () => /^fieldcast_ingest_up 0$/m.test(await metrics(metricsPort)), 20_000);
    const text = await metrics(metricsPort);
    expect(text).toMatch(/^fieldcast_ingest_error\{code="CLOUD_UNREACHABLE",message="cannot reach AWS while reading the flow/m);
    expect(text).toMatch(/^fieldcast_ingest_read_failures_total [1-9]/m);
    expect(text).not.toMatch(/^fieldcast_ingest_source_bit_rate_bits_per_second /m);
    expect(text).not.toMatch(/^fieldcast_ingest_flow_status\{status="ACTIVE"\} 1$/m);
    expect(rx.output()).toContain('cannot read the ingest view');
    await forwards(rx.port, listener);
    expect(await rx.stop()).toBe(0);
  });

  it('with AWS slow to answer: /metrics answers meanwhile and the receiver forwards', async () => {
    const aws = await endpoint();
    const flow = aws.addFlow('Slow', {}, 'ACTIVE');
    aws.delayMs = 30_000;
    const { listener, rx, metricsPort } = await receiverFor(flow.flowArn, aws.url);
    await waitUntil('the first read to be under way', () => aws.requests.length > 0, 10_000);
    const text = await metrics(metricsPort);
    expect(text).not.toMatch(/^fieldcast_ingest_up /m);
    expect(text).toMatch(/^fieldcast_receive_groups 0$/m);
    await forwards(rx.port, listener);
    expect(await rx.stop()).toBe(0);
  });

  it('--flow needs --metrics-port, and a bad ARN is refused', async () => {
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('./receiver-helpers.js');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'receive', '--forward', 'srt://127.0.0.1:9000', ...args], { encoding: 'utf8' });
    const r = run('--flow', 'arn:aws:mediaconnect:us-west-2:111122223333:flow:1-a:b');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--flow needs --metrics-port');
    const r2 = run('--metrics-port', String(await freeTcpPort()), '--flow', 'flow-1');
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('CLOUD_INPUT_INVALID: "flow-1" is not a MediaConnect flow ARN');
  });
});
