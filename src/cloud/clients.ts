/**
 * The AWS SDK clients `fieldcast cloud` and `fieldcast receive --flow` use,
 * all in the flow's region. Credentials come from the SDK's default chain
 * (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role);
 * the endpoint from AWS_ENDPOINT_URL when set, or `endpoint` here (tests).
 * Each request is bounded in time, and the SDK's standard retries (with
 * backoff, throttling included) apply.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsAccess {
  /** The flow's region (from its ARN). */
  region: string;
  /** Another endpoint than AWS's own (a local test endpoint). */
  endpoint?: string;
  /** Fixed credentials instead of the SDK's default chain. */
  credentials?: StaticCredentials;
  /** Tries per request, the first included (SDK default 3). */
  maxAttempts?: number;
  /** Longest wait for one answer (default 10 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

function clientConfig(a: AwsAccess) {
  return {
    region: a.region,
    ...(a.endpoint ? { endpoint: a.endpoint } : {}),
    ...(a.credentials ? { credentials: a.credentials } : {}),
    ...(a.maxAttempts ? { maxAttempts: a.maxAttempts } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: a.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS },
  };
}

/** The three clients, made when first asked for; `close()` frees their sockets. */
export class AwsClients {
  #mediaconnect: MediaConnectClient | undefined;
  #secrets: SecretsManagerClient | undefined;
  #cloudwatch: CloudWatchClient | undefined;

  constructor(readonly access: AwsAccess) {}

  get mediaconnect(): MediaConnectClient {
    this.#mediaconnect ??= new MediaConnectClient(clientConfig(this.access));
    return this.#mediaconnect;
  }

  get secrets(): SecretsManagerClient {
    this.#secrets ??= new SecretsManagerClient(clientConfig(this.access));
    return this.#secrets;
  }

  get cloudwatch(): CloudWatchClient {
    this.#cloudwatch ??= new CloudWatchClient(clientConfig(this.access));
    return this.#cloudwatch;
  }

  close(): void {
    this.#mediaconnect?.destroy();
    this.#secrets?.destroy();
    this.#cloudwatch?.destroy();
  }
}
