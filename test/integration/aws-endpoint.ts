/**
 * A local HTTP endpoint that answers the real AWS SDK v3 clients
 * (MediaConnect REST-JSON, Secrets Manager JSON 1.1, CloudWatch Query) as
 * AWS documents it, for the tests of `fieldcast cloud` and `fieldcast
 * receive --flow`. It proves the requests, not AWS: each request is checked
 * against the shapes in the API references (method, path, JSON field names
 * and types, required fields, the SigV4 signature and its credential scope)
 * and answered with the documented response shapes, from a small in-memory
 * account (flows, secrets, CloudWatch datapoints) so a second run sees what
 * the first one changed. A request that breaks a documented shape is
 * answered 400 and kept in `violations`, which the tests expect empty.
 *
 * References: MediaConnect API reference (DescribeFlow, UpdateFlowSource,
 * StartFlow, UpdateFlow, AddFlowSources; Source, SetSourceRequest,
 * Transport, UpdateEncryption, FailoverConfig, UpdateFailoverConfig: a flow
 * takes a second source only with source failover ENABLED, two at most); Secrets Manager API
 * reference (DescribeSecret, GetSecretValue, CreateSecret, PutSecretValue);
 * CloudWatch API reference (GetMetricData, MetricDataQuery, MetricStat;
 * Query protocol); AWS Signature Version 4 (IAM user guide).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const TEST_ACCOUNT = '111122223333';
export const TEST_REGION = 'us-west-2';
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDFIELDCASTTEST01', secretAccessKey: 'fieldcast/test/secret+key/0123456789abcd' };

export type Service = 'mediaconnect' | 'secretsmanager' | 'monitoring';

export interface SeenRequest {
  service: Service | 'unknown';
  operation: string;
  method: string;
  path: string;
  body: string;
  status: number;
}

/** A flow as MediaConnect puts it on the wire (camelCase). */
export interface WireSource {
  sourceArn: string;
  name: string;
  ingestIp?: string;
  ingestPort?: number;
  whitelistCidr?: string;
  transport?: { protocol: string; minLatency?: number; streamId?: string; maxBitrate?: number };
  decryption?: { keyType?: string; roleArn?: string; secretArn?: string; algorithm?: string };
}

export interface WireFlow {
  flowArn: string;
  name: string;
  status: string;
  availabilityZone: string;
  egressIp: string;
  entitlements: unknown[];
  outputs: unknown[];
  source: WireSource;
  sources?: WireSource[];
  sourceFailoverConfig?: { state?: string; failoverMode?: string; recoveryWindow?: number; sourcePriority?: { primarySource?: string } };
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  description?: string;
  versions: number;
  deleted?: boolean;
}

interface Fault {
  operation: string;
  times: number;
  status: number;
  type: string;
  message: string;
}

const FLOW_ARN = /^arn:(aws[a-zA-Z-]*):mediaconnect:[a-z0-9-]+:[0-9]{12}:flow:[a-zA-Z0-9-]+:[a-zA-Z0-9_-]+$/;
const PROTOCOLS = [
  'zixi-push',
  'rtp-fec',
  'rtp',
  'zixi-pull',
  'rist',
  'st2110-jpegxs',
  'cdi',
  'srt-listener',
  'srt-caller',
  'fujitsu-qos',
  'udp',
  'ndi-speed-hq',
];
const UPDATE_SOURCE_FIELDS: Record<string, 'string' | 'integer' | 'object' | 'array'> = {
  decryption: 'object',
  description: 'string',
  entitlementArn: 'string',
  gatewayBridgeSource: 'object',
  ingestPort: 'integer',
  maxBitrate: 'integer',
  maxLatency: 'integer',
  maxSyncBuffer: 'integer',
  mediaStreamSourceConfigurations: 'array',
  minLatency: 'integer',
  protocol: 'string',
  senderControlPort: 'integer',
  senderIpAddress: 'string',
  sourceListenerAddress: 'string',
  sourceListenerPort: 'integer',
  streamId: 'string',
  vpcInterfaceName: 'string',
  whitelistCidr: 'string',
};
const UPDATE_FLOW_FIELDS: Record<string, 'string' | 'object'> = {
  maintenance: 'object',
  ndiConfig: 'object',
  flowSize: 'string',
  sourceFailoverConfig: 'object',
  sourceMonitoringConfig: 'object',
};
const FAILOVER_FIELDS: Record<string, 'string' | 'integer' | 'object'> = {
  failoverMode: 'string',
  recoveryWindow: 'integer',
  sourcePriority: 'object',
  state: 'string',
};
const ENCRYPTION_FIELDS: Record<string, 'string'> = {
  algorithm: 'string',
  constantInitializationVector: 'string',
  deviceId: 'string',
  keyType: 'string',
  region: 'string',
  resourceId: 'string',
  roleArn: 'string',
  secretArn: 'string',
  url: 'string',
};
const SM_FIELDS: Record<string, { required: string[]; fields: Record<string, 'string' | 'boolean' | 'array' | 'object'> }> = {
  DescribeSecret: { required: ['SecretId'], fields: { SecretId: 'string' } },
  GetSecretValue: { required: ['SecretId'], fields: { SecretId: 'string', VersionId: 'string', VersionStage: 'string' } },
  CreateSecret: {
    required: ['Name'],
    fields: {
      Name: 'string',
      ClientRequestToken: 'string',
      Description: 'string',
      KmsKeyId: 'string',
      SecretBinary: 'string',
      SecretString: 'string',
      Tags: 'array',
      AddReplicaRegions: 'array',
      ForceOverwriteReplicaSecret: 'boolean',
    },
  },
  PutSecretValue: {
    required: ['SecretId'],
    fields: { SecretId: 'string', ClientRequestToken: 'string', SecretBinary: 'string', SecretString: 'string', VersionStages: 'array' },
  },
};
/** MediaConnect source metrics (user guide) that a GetMetricData query may name. */
export const MEDIACONNECT_SOURCE_METRICS = new Set([
  'SourceBitRate',
  'SourceTotalPackets',
  'SourceDroppedPackets',
  'SourceRecoveredPackets',
  'SourceNotRecoveredPackets',
  'SourcePacketLossPercent',
  'SourceRoundTripTime',
  'SourceARQRequests',
  'SourceARQRecovered',
  'SourceConnected',
  'SourceDisconnections',
  'SourceJitter',
  'SourceLatency',
  'SourceTSSyncLoss',
  'SourceTSByteError',
  'SourceContinuityCounter',
  'SourcePATError',
  'SourcePMTError',
  'SourcePIDError',
  'SourceTransportError',
  'SourceCRCError',
  'SourcePCRError',
  'SourcePCRAccuracyError',
  'SourcePTSError',
  'SourceCATError',
]);
const STATS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);

class Reject extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly violation = true,
  ) {
    super(message);
  }
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

function checkFields(where: string, body: Record<string, unknown>, fields: Record<string, string>, required: string[] = []): void {
  for (const k of required) if (!(k in body)) throw new Reject(400, 'BadRequestException', `${where}: required field ${k} is missing`);
  for (const [k, v] of Object.entries(body)) {
    const want = fields[k];
    if (!want) throw new Reject(400, 'BadRequestException', `${where}: unknown field ${k}`);
    if (typeOf(v) !== want) throw new Reject(400, 'BadRequestException', `${where}: ${k} must be ${want}, got ${typeOf(v)}`);
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 escaping as SigV4 wants it (encodeURIComponent plus !'()*). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * An environment for a `fieldcast` child that talks only to `endpoint`: none
 * of the user's AWS variables, config or credential files, no instance metadata.
 */
export function isolatedAwsEnv(endpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(tmpdir(), 'fc-aws-home-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint,
    ...extra,
  };
}

export class AwsTestEndpoint {
  readonly requests: SeenRequest[] = [];
  readonly violations: string[] = [];
  readonly flows = new Map<string, WireFlow>();
  readonly secrets = new Map<string, StoredSecret>();
  /** CloudWatch datapoints by metric name: a value per minute, newest first. */
  readonly datapoints = new Map<string, { at: Date; value: number }[]>();
  readonly faults: Fault[] = [];
  /** A request waits this long before its answer (a slow AWS). */
  delayMs = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<AwsTestEndpoint> {
    let self: AwsTestEndpoint | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void self?.handle(req, Buffer.concat(chunks), res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    self = new AwsTestEndpoint(server);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  /** A flow with one source, as a flow created in the console with a Zixi push source is. */
  addFlow(name: string, source: Partial<WireSource> = {}, status = 'STANDBY'): WireFlow {
    const id = `1-${randomBytes(8).toString('hex')}-${randomBytes(6).toString('hex')}`;
    const flowArn = `arn:aws:mediaconnect:${TEST_REGION}:${TEST_ACCOUNT}:flow:${id}:${name}`;
    const src: WireSource = {
      sourceArn: `arn:aws:mediaconnect:${TEST_REGION}:${TEST_ACCOUNT}:source:${id}:${source.name ?? 'encoder'}`,
      name: 'encoder',
      ingestIp: '198.51.100.20',
      ingestPort: 2088,
      whitelistCidr: '0.0.0.0/0',
      transport: { protocol: 'zixi-push', maxBitrate: 0 },
      ...source,
    };
    const flow: WireFlow = {
      flowArn,
      name,
      status,
      availabilityZone: `${TEST_REGION}a`,
      egressIp: '198.51.100.20',
      entitlements: [],
      outputs: [],
      source: src,
      sources: [src],
    };
    this.flows.set(flowArn, flow);
    return flow;
  }

  /** The next `times` calls of `operation` fail with this AWS error. */
  fail(operation: string, times: number, status: number, type: string, message: string): void {
    this.faults.push({ operation, times, status, type, message });
  }

  /** Operations seen, in order (retries included). */
  operations(service?: Service): string[] {
    return this.requests.filter((r) => service === undefined || r.service === service).map((r) => r.operation);
  }

  private async handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const seen: SeenRequest = {
      service: 'unknown',
      operation: '?',
      method: req.method ?? '',
      path: req.url ?? '',
      body: body.toString(),
      status: 0,
    };
    this.requests.push(seen);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs).unref());
    let service: Service = 'mediaconnect';
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('secretsmanager.')) service = 'secretsmanager';
    else if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) service = 'monitoring';
    seen.service = service;
    try {
      this.checkSignature(req, body, service);
      if (service === 'secretsmanager') return this.reply(res, seen, ...this.secretsManager(seen, req, body));
      if (service === 'monitoring') return this.reply(res, seen, ...this.cloudWatch(seen, body));
      return this.reply(res, seen, ...this.mediaConnect(seen, req, body));
    } catch (e) {
      const r = e instanceof Reject ? e : new Reject(500, 'InternalServerErrorException', String(e));
      if (r.violation) this.violations.push(`${seen.operation}: ${r.message}`);
      this.replyError(res, seen, service, r.status, r.type, r.message);
    }
  }

  private takeFault(operation: string): Fault | undefined {
    const f = this.faults.find((x) => x.operation === operation && x.times > 0);
    if (f) f.times--;
    return f;
  }

  private reply(res: http.ServerResponse, seen: SeenRequest, status: number, contentType: string, text: string): void {
    seen.status = status;
    res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomBytes(16).toString('hex') }).end(text);
  }

  /** Errors as each protocol puts them: REST-JSON in a header, JSON 1.1 in __type, Query in XML. */
  private replyError(res: http.ServerResponse, seen: SeenRequest, service: Service, status: number, type: string, message: string): void {
    seen.status = status;
    if (service === 'mediaconnect')
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type }).end(JSON.stringify({ message }));
    else if (service === 'secretsmanager')
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: type, Message: message }));
    else
      res
        .writeHead(status, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>${type}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
        );
  }

  /** SigV4: the credential scope names this service and region, and the signature is the one the test secret gives. */
  private checkSignature(req: http.IncomingMessage, body: Buffer, service: Service): void {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) throw new Reject(403, 'MissingAuthenticationTokenException', `not a SigV4 Authorization header: "${auth}"`);
    const [, keyId, date, region, scopeService, signedHeaders, signature] = m as unknown as string[];
    if (scopeService !== service)
      throw new Reject(403, 'InvalidSignatureException', `signed for service ${scopeService}, sent to ${service}`);
    if (region !== TEST_REGION) throw new Reject(403, 'InvalidSignatureException', `signed for region ${region}, not ${TEST_REGION}`);
    if (keyId !== TEST_CREDENTIALS.accessKeyId)
      throw new Reject(
        service === 'secretsmanager' ? 400 : 403,
        service === 'monitoring' ? 'InvalidClientTokenId' : 'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        false,
      );
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!amzDate.startsWith(date ?? '-'))
      throw new Reject(403, 'InvalidSignatureException', 'X-Amz-Date does not match the credential scope');
    const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
    const segments = rawPath.split('/').filter((s) => s !== '' && s !== '.');
    const normalized = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
    const canonicalPath = escapeUri(normalized).replace(/%2F/g, '/');
    const canonicalQuery = rawQuery.split('&').filter(Boolean).sort().join('&');
    const names = (signedHeaders ?? '').split(';');
    if (!names.includes('host')) throw new Reject(403, 'InvalidSignatureException', 'host is not a signed header');
    const canonicalHeaders = names
      .map(
        (n) =>
          `${n}:${String(req.headers[n] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
    const canonical = [req.method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/${scopeService}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    let key = hmac(`AWS4${TEST_CREDENTIALS.secretAccessKey}`, date ?? '');
    for (const part of [region ?? '', scopeService ?? '', 'aws4_request']) key = hmac(key, part);
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    if (expected !== signature)
      throw new Reject(
        service === 'secretsmanager' ? 400 : 403,
        service === 'monitoring' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        false,
      );
  }

  /** The checks UpdateFlowSource and AddFlowSources share: protocol, SRT listener port, decryption, allow-list. */
  private checkSource(where: string, b: Record<string, unknown>, protocol: string): void {
    if (b['protocol'] !== undefined && !PROTOCOLS.includes(String(b['protocol'])))
      throw new Reject(400, 'BadRequestException', `protocol "${b['protocol']}" is not a documented value`);
    const port = b['ingestPort'] as number | undefined;
    if (port !== undefined && protocol === 'srt-listener' && (port < 1024 || port > 65535 || port === 2077 || port === 2088))
      throw new Reject(400, 'BadRequestException', `ingestPort ${port} is not open to SRT listeners`);
    const d = b['decryption'] as Record<string, unknown> | undefined;
    if (d !== undefined) {
      checkFields(`${where}.decryption`, d, ENCRYPTION_FIELDS);
      if (d['keyType'] !== undefined && !['speke', 'static-key', 'srt-password'].includes(String(d['keyType'])))
        throw new Reject(400, 'BadRequestException', `keyType "${d['keyType']}" is not a documented value`);
      if (d['keyType'] === 'srt-password') {
        if (typeof d['roleArn'] !== 'string' || typeof d['secretArn'] !== 'string')
          throw new Reject(400, 'BadRequestException', 'srt-password decryption needs roleArn and secretArn');
        if (![...this.secrets.values()].some((x) => x.arn === d['secretArn']))
          throw new Reject(400, 'BadRequestException', `secretArn ${d['secretArn']} is not a secret of this account`);
      }
    }
    if (b['whitelistCidr'] !== undefined && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(String(b['whitelistCidr'])))
      throw new Reject(400, 'BadRequestException', `whitelistCidr "${b['whitelistCidr']}" is not a CIDR block`);
  }

  // --- MediaConnect (REST-JSON) -------------------------------------------------------------

  private mediaConnect(seen: SeenRequest, req: http.IncomingMessage, body: Buffer): [number, string, string] {
    const [path = ''] = (req.url ?? '').split('?');
    const parts = path.split('/').map((p) => decodeURIComponent(p));
    const json = (status: number, v: unknown): [number, string, string] => [status, 'application/json', JSON.stringify(v)];
    const flowOf = (arn: string | undefined): WireFlow => {
      if (!arn || !FLOW_ARN.test(arn))
        throw new Reject(400, 'BadRequestException', `flowArn "${arn}" does not match the documented pattern`);
      const f = this.flows.get(arn);
      if (!f) throw new Reject(404, 'NotFoundException', `Flow not found: ${arn}`, false);
      return f;
    };
    const noBody = () => {
      if (body.length > 0) throw new Reject(400, 'BadRequestException', `${seen.operation} takes no request body`);
    };
    const fault = (op: string) => {
      const f = this.takeFault(op);
      if (f) throw new Reject(f.status, f.type, f.message, false);
    };
    // GET /v1/flows/{flowArn}
    if (req.method === 'GET' && parts.length === 4 && parts[1] === 'v1' && parts[2] === 'flows') {
      seen.operation = 'DescribeFlow';
      noBody();
      fault('DescribeFlow');
      const f = flowOf(parts[3]);
      return json(200, { flow: f, messages: { errors: [] } });
    }
    // POST /v1/flows/start/{flowArn}
    if (req.method === 'POST' && parts.length === 5 && parts[2] === 'flows' && parts[3] === 'start') {
      seen.operation = 'StartFlow';
      noBody();
      fault('StartFlow');
      const f = flowOf(parts[4]);
      if (f.status !== 'STANDBY' && f.status !== 'ERROR')
        throw new Reject(400, 'BadRequestException', `the flow is ${f.status}: only a STANDBY flow can be started`, false);
      // Started at once: how long AWS takes is not what these tests are about.
      f.status = 'ACTIVE';
      return json(202, { flowArn: f.flowArn, status: 'STARTING' });
    }
    // PUT /v1/flows/{flowArn}/source/{sourceArn}
    if (req.method === 'PUT' && parts.length === 6 && parts[2] === 'flows' && parts[4] === 'source') {
      seen.operation = 'UpdateFlowSource';
      fault('UpdateFlowSource');
      if (!String(req.headers['content-type']).startsWith('application/json'))
        throw new Reject(400, 'BadRequestException', 'UpdateFlowSource has a JSON body (Content-type: application/json)');
      const f = flowOf(parts[3]);
      const b = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
      checkFields('UpdateFlowSource', b, UPDATE_SOURCE_FIELDS);
      const s = (f.sources ?? [f.source]).find((x) => x.sourceArn === parts[5]);
      if (!s) throw new Reject(404, 'NotFoundException', `Source not found: ${parts[5]}`, false);
      const protocol = String(b['protocol'] ?? s.transport?.protocol);
      this.checkSource('UpdateFlowSource', b, protocol);
      const port = b['ingestPort'] as number | undefined;
      const d = b['decryption'] as Record<string, unknown> | undefined;
      s.transport = {
        ...(s.transport ?? { protocol }),
        protocol,
        ...(b['minLatency'] !== undefined ? { minLatency: b['minLatency'] as number } : {}),
        ...(b['streamId'] !== undefined ? { streamId: b['streamId'] as string } : {}),
      };
      if (port !== undefined) s.ingestPort = port;
      if (b['whitelistCidr'] !== undefined) s.whitelistCidr = b['whitelistCidr'] as string;
      if (d !== undefined) s.decryption = d as WireSource['decryption'];
      return json(202, { flowArn: f.flowArn, source: s });
    }
    // PUT /v1/flows/{flowArn}
    if (req.method === 'PUT' && parts.length === 4 && parts[2] === 'flows') {
      seen.operation = 'UpdateFlow';
      fault('UpdateFlow');
      const f = flowOf(parts[3]);
      const b = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
      checkFields('UpdateFlow', b, UPDATE_FLOW_FIELDS);
      const fc = b['sourceFailoverConfig'] as Record<string, unknown> | undefined;
      if (fc !== undefined) {
        checkFields('UpdateFlow.sourceFailoverConfig', fc, FAILOVER_FIELDS);
        if (fc['failoverMode'] !== undefined && !['MERGE', 'FAILOVER'].includes(String(fc['failoverMode'])))
          throw new Reject(400, 'BadRequestException', `failoverMode "${fc['failoverMode']}" is not MERGE or FAILOVER`);
        if (fc['state'] !== undefined && !['ENABLED', 'DISABLED'].includes(String(fc['state'])))
          throw new Reject(400, 'BadRequestException', `state "${fc['state']}" is not ENABLED or DISABLED`);
        if (fc['state'] === 'DISABLED' && (f.sources ?? [f.source]).length > 1)
          throw new Reject(400, 'BadRequestException', 'a flow with two sources cannot have source failover disabled', false);
        f.sourceFailoverConfig = { ...(f.sourceFailoverConfig ?? {}), ...(fc as WireFlow['sourceFailoverConfig']) };
      }
      return json(202, { flow: f });
    }
    // POST /v1/flows/{flowArn}/source
    if (req.method === 'POST' && parts.length === 5 && parts[2] === 'flows' && parts[4] === 'source') {
      seen.operation = 'AddFlowSources';
      fault('AddFlowSources');
      const f = flowOf(parts[3]);
      const b = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
      checkFields('AddFlowSources', b, { sources: 'array' }, ['sources']);
      const sources = f.sources ?? [f.source];
      const adding = b['sources'] as Record<string, unknown>[];
      for (const a of adding) {
        checkFields('AddFlowSources.sources[]', a, { ...UPDATE_SOURCE_FIELDS, name: 'string' }, ['name', 'protocol']);
        this.checkSource('AddFlowSources', a, String(a['protocol']));
      }
      if (sources.length + adding.length > 2)
        throw new Reject(400, 'BadRequestException', `a flow takes two sources at most; it has ${sources.length}`, false);
      if (sources.length + adding.length > 1 && f.sourceFailoverConfig?.state !== 'ENABLED')
        throw new Reject(400, 'BadRequestException', 'a second source needs source failover ENABLED on the flow (UpdateFlow)', false);
      const added: WireSource[] = adding.map((a, i) => {
        if (sources.some((x) => x.name === a['name']))
          throw new Reject(400, 'BadRequestException', `the flow already has a source named ${String(a['name'])}`, false);
        return {
          sourceArn: `arn:aws:mediaconnect:${TEST_REGION}:${TEST_ACCOUNT}:source:${randomBytes(4).toString('hex')}-${i}:${String(a['name'])}`,
          name: String(a['name']),
          ingestIp: f.source.ingestIp,
          ...(a['ingestPort'] !== undefined ? { ingestPort: a['ingestPort'] as number } : {}),
          ...(a['whitelistCidr'] !== undefined ? { whitelistCidr: a['whitelistCidr'] as string } : {}),
          transport: {
            protocol: String(a['protocol']),
            ...(a['minLatency'] !== undefined ? { minLatency: a['minLatency'] as number } : {}),
            ...(a['streamId'] !== undefined ? { streamId: a['streamId'] as string } : {}),
          },
          ...(a['decryption'] !== undefined ? { decryption: a['decryption'] as WireSource['decryption'] } : {}),
        };
      });
      f.sources = [...sources, ...added];
      return json(201, { flowArn: f.flowArn, sources: added });
    }
    throw new Reject(404, 'NotFoundException', `no MediaConnect operation is ${req.method} ${path}`);
  }

  // --- Secrets Manager (JSON 1.1) -----------------------------------------------------------

  private secretsManager(seen: SeenRequest, req: http.IncomingMessage, body: Buffer): [number, string, string] {
    const op = String(req.headers['x-amz-target']).slice('secretsmanager.'.length);
    seen.operation = op;
    const ct = 'application/x-amz-json-1.1';
    if (req.method !== 'POST' || req.url !== '/') throw new Reject(400, 'InvalidRequestException', 'Secrets Manager takes POST /');
    if (req.headers['content-type'] !== ct) throw new Reject(400, 'InvalidRequestException', `Content-Type must be ${ct}`);
    const spec = SM_FIELDS[op];
    if (!spec) throw new Reject(400, 'InvalidRequestException', `unexpected operation ${op}`);
    const b = JSON.parse(body.toString()) as Record<string, unknown>;
    checkFields(op, b, spec.fields, spec.required);
    const f = this.takeFault(op);
    if (f) throw new Reject(f.status, f.type, f.message, false);
    const token = b['ClientRequestToken'];
    if (token !== undefined && (String(token).length < 32 || String(token).length > 64))
      throw new Reject(400, 'InvalidParameterException', 'ClientRequestToken must be 32-64 characters');
    if (typeof b['SecretString'] === 'string' && b['SecretString'].length > 65536)
      throw new Reject(400, 'InvalidParameterException', 'SecretString is longer than 65536');
    const find = (id: unknown): StoredSecret => {
      const s = [...this.secrets.values()].find((x) => x.name === id || x.arn === id);
      if (!s) throw new Reject(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.", false);
      return s;
    };
    const ok = (v: unknown): [number, string, string] => [200, ct, JSON.stringify(v)];
    const version = (s: StoredSecret) => `v${s.versions}-${s.arn.slice(-6)}-0000-0000-000000000000`;
    switch (op) {
      case 'DescribeSecret': {
        const s = find(b['SecretId']);
        return ok({
          ARN: s.arn,
          Name: s.name,
          Description: s.description,
          LastChangedDate: 1_700_000_000,
          VersionIdsToStages: { [version(s)]: ['AWSCURRENT'] },
          ...(s.deleted ? { DeletedDate: 1_700_000_100 } : {}),
        });
      }
      case 'GetSecretValue': {
        const s = find(b['SecretId']);
        return ok({
          ARN: s.arn,
          Name: s.name,
          SecretString: s.value,
          VersionId: version(s),
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        });
      }
      case 'CreateSecret': {
        const name = String(b['Name']);
        if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name))
          throw new Reject(400, 'InvalidParameterException', `Name "${name}" has characters a secret name cannot`);
        if (this.secrets.has(name))
          throw new Reject(400, 'ResourceExistsException', `The operation failed because the secret ${name} already exists.`, false);
        const s: StoredSecret = {
          arn: `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`,
          name,
          value: String(b['SecretString'] ?? ''),
          versions: 1,
          ...(typeof b['Description'] === 'string' ? { description: b['Description'] } : {}),
        };
        this.secrets.set(name, s);
        return ok({ ARN: s.arn, Name: s.name, VersionId: version(s) });
      }
      default: {
        const s = find(b['SecretId']);
        s.value = String(b['SecretString'] ?? '');
        s.versions++;
        return ok({ ARN: s.arn, Name: s.name, VersionId: version(s), VersionStages: ['AWSCURRENT'] });
      }
    }
  }

  // --- CloudWatch (Query protocol) ----------------------------------------------------------

  private cloudWatch(seen: SeenRequest, body: Buffer): [number, string, string] {
    const form = new URLSearchParams(body.toString());
    seen.operation = form.get('Action') ?? '?';
    if (form.get('Version') !== '2010-08-01') throw new Reject(400, 'InvalidParameterValue', 'Version must be 2010-08-01');
    if (seen.operation !== 'GetMetricData') throw new Reject(400, 'InvalidAction', `unexpected action ${seen.operation}`);
    const f = this.takeFault('GetMetricData');
    if (f) throw new Reject(f.status, f.type, f.message, false);
    const start = Date.parse(form.get('StartTime') ?? '');
    const end = Date.parse(form.get('EndTime') ?? '');
    if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end)
      throw new Reject(400, 'InvalidParameterValue', 'StartTime and EndTime are required ISO 8601 times, StartTime first');
    const queries: { id: string; metric: string; dims: Map<string, string> }[] = [];
    for (let n = 1; form.has(`MetricDataQueries.member.${n}.Id`); n++) {
      const p = `MetricDataQueries.member.${n}.`;
      const id = form.get(`${p}Id`) ?? '';
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
        throw new Reject(400, 'InvalidParameterValue', `query Id "${id}" must match ^[a-z][a-zA-Z0-9_]*$`);
      if (queries.some((q) => q.id === id)) throw new Reject(400, 'InvalidParameterValue', `query Id "${id}" is used twice`);
      const ns = form.get(`${p}MetricStat.Metric.Namespace`);
      const metric = form.get(`${p}MetricStat.Metric.MetricName`) ?? '';
      const period = Number(form.get(`${p}MetricStat.Period`));
      const stat = form.get(`${p}MetricStat.Stat`) ?? '';
      if (ns !== 'AWS/MediaConnect') throw new Reject(400, 'InvalidParameterValue', `Namespace "${ns}" is not AWS/MediaConnect`);
      if (!MEDIACONNECT_SOURCE_METRICS.has(metric))
        throw new Reject(400, 'InvalidParameterValue', `"${metric}" is not a MediaConnect source metric`);
      if (!Number.isInteger(period) || period <= 0 || (period % 60 !== 0 && ![1, 5, 10, 30].includes(period)))
        throw new Reject(400, 'InvalidParameterValue', `Period ${period} must be 1, 5, 10, 30 or a multiple of 60`);
      if (!STATS.has(stat)) throw new Reject(400, 'InvalidParameterValue', `Stat "${stat}" is not a statistic`);
      const dims = new Map<string, string>();
      for (let d = 1; form.has(`${p}MetricStat.Metric.Dimensions.member.${d}.Name`); d++)
        dims.set(
          form.get(`${p}MetricStat.Metric.Dimensions.member.${d}.Name`) ?? '',
          form.get(`${p}MetricStat.Metric.Dimensions.member.${d}.Value`) ?? '',
        );
      for (const k of dims.keys())
        if (k !== 'FlowARN' && k !== 'SourceARN') throw new Reject(400, 'InvalidParameterValue', `dimension ${k} is not MediaConnect's`);
      if (!dims.has('FlowARN')) throw new Reject(400, 'InvalidParameterValue', 'MediaConnect source metrics need the FlowARN dimension');
      queries.push({ id, metric, dims });
    }
    if (queries.length === 0 || queries.length > 500)
      throw new Reject(400, 'InvalidParameterValue', `${queries.length} queries: 1 to 500 allowed`);
    const member = (q: (typeof queries)[number]) => {
      const known = this.flows.get(q.dims.get('FlowARN') ?? '') !== undefined;
      const points = known ? (this.datapoints.get(q.metric) ?? []).filter((p) => p.at.getTime() >= start && p.at.getTime() < end) : [];
      return `<member><Id>${q.id}</Id><Label>${q.metric}</Label><Timestamps>${points.map((p) => `<member>${p.at.toISOString()}</member>`).join('')}</Timestamps><Values>${points.map((p) => `<member>${p.value}</member>`).join('')}</Values><StatusCode>Complete</StatusCode></member>`;
    };
    const xml = `<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults>${queries.map(member).join('')}</MetricDataResults><Messages/></GetMetricDataResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></GetMetricDataResponse>`;
    return [200, 'text/xml', xml];
  }
}
