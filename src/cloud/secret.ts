/**
 * The SRT password's secret in Secrets Manager: a secret of type "other"
 * whose plaintext is only the passphrase, in the flow's account and region
 * (MediaConnect user guide, "SRT password"). Setup reads it first and
 * writes only when it is missing or holds another passphrase. The
 * passphrase travels only in the request body to Secrets Manager.
 */
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Secret } from '../srt/secret.js';
import type { AwsClients } from './clients.js';
import { CloudNotFoundError, CloudRequestError, fromAwsError } from './errors.js';

export type SecretState = { kind: 'absent'; id: string } | { kind: 'present'; id: string; arn: string; name: string; same: boolean };

export type SecretStep = { kind: 'create'; name: string } | { kind: 'put'; id: string } | { kind: 'none'; arn: string };

/** Pure: what to do with the secret; `createName` names a new one when the one looked for (perhaps by ARN) is gone. */
export function planSecret(state: SecretState, createName: string): SecretStep {
  if (state.kind === 'absent') return { kind: 'create', name: state.id.startsWith('arn:') ? createName : state.id };
  return state.same ? { kind: 'none', arn: state.arn } : { kind: 'put', id: state.arn };
}

export async function readSecret(clients: AwsClients, id: string, passphrase: Secret): Promise<SecretState> {
  let arn: string;
  let name: string;
  try {
    const d = await clients.secrets.send(new DescribeSecretCommand({ SecretId: id }));
    if (d.DeletedDate !== undefined)
      throw new CloudRequestError(
        `the secret ${id} is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id ${id}) or give another --secret-name`,
        { secret: id },
      );
    arn = d.ARN ?? id;
    name = d.Name ?? id;
  } catch (err) {
    const e = fromAwsError(err, 'reading the secret (DescribeSecret)', `secret ${id}`);
    if (e instanceof CloudNotFoundError) return { kind: 'absent', id };
    throw e;
  }
  try {
    const v = await clients.secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    return { kind: 'present', id, arn, name, same: v.SecretString === passphrase.reveal() };
  } catch (err) {
    throw fromAwsError(err, "reading the secret's value to compare it (GetSecretValue)", `secret ${id}`);
  }
}

export function describeSecretInput(flowName: string): string {
  return `SRT password of the MediaConnect flow ${flowName} (fieldcast cloud setup)`;
}

/** Applies a create or put; resolves to the secret's ARN. */
export async function applySecret(clients: AwsClients, step: SecretStep, passphrase: Secret, flowName: string): Promise<string> {
  if (step.kind === 'none') return step.arn;
  try {
    if (step.kind === 'create') {
      const r = await clients.secrets.send(
        new CreateSecretCommand({ Name: step.name, SecretString: passphrase.reveal(), Description: describeSecretInput(flowName) }),
      );
      if (!r.ARN) throw new CloudRequestError(`Secrets Manager created ${step.name} but returned no ARN`, { secret: step.name });
      return r.ARN;
    }
    const r = await clients.secrets.send(new PutSecretValueCommand({ SecretId: step.id, SecretString: passphrase.reveal() }));
    return r.ARN ?? step.id;
  } catch (err) {
    const id = step.kind === 'create' ? step.name : step.id;
    throw fromAwsError(
      err,
      step.kind === 'create' ? 'creating the secret (CreateSecret)' : 'storing the passphrase (PutSecretValue)',
      `secret ${id}`,
    );
  }
}
