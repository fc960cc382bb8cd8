/**
 * MediaConnect and Secrets Manager ARNs, checked before any request: the
 * flow's region is the region every call goes to (a flow's secret must live
 * in the same account and region, MediaConnect user guide "SRT password").
 * Pattern from the MediaConnect API reference (DescribeFlow, flowArn).
 */
import { CloudInputError } from './errors.js';

const FLOW_ARN = /^arn:(aws[a-zA-Z-]*):mediaconnect:([a-z0-9-]+):(\d{12}):flow:([a-zA-Z0-9-]+):([a-zA-Z0-9_-]+)$/;
const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** Secrets Manager names: letters, digits and /_+=.@- (CreateSecret, Name). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

export interface FlowArn {
  arn: string;
  partition: string;
  region: string;
  account: string;
  /** The flow's name as it was created (the last part of the ARN). */
  name: string;
}

export function parseFlowArn(text: string): FlowArn {
  const m = FLOW_ARN.exec(text.trim());
  if (!m)
    throw new CloudInputError(
      `"${text}" is not a MediaConnect flow ARN (arn:aws:mediaconnect:REGION:ACCOUNT:flow:ID:NAME, as the flow's page in the console shows it)`,
      { value: text },
    );
  return { arn: m[0], partition: m[1]!, region: m[2]!, account: m[3]!, name: m[5]! };
}

export function checkRoleArn(text: string): string {
  if (!ROLE_ARN.test(text.trim()))
    throw new CloudInputError(`"${text}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`, { value: text });
  return text.trim();
}

export function checkSecretName(text: string): string {
  if (!SECRET_NAME.test(text) || text.startsWith('arn:'))
    throw new CloudInputError(`"${text}" is not a Secrets Manager secret name (letters, digits and /_+=.@-, up to 512)`, { value: text });
  return text;
}

/** The secret's name setup uses unless told another: one per flow, under a prefix an IAM policy can name. */
export function defaultSecretName(flow: FlowArn): string {
  return `fieldcast/${flow.name}/srt-password`;
}

/** The secret of a source setup adds as the flow's second: its own (the two destinations may have different passphrases). */
export function addedSourceSecretName(flow: FlowArn, source: string): string {
  return `${defaultSecretName(flow)}-${source}`;
}
