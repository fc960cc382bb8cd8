import { NotFoundException, TooManyRequestsException } from '@aws-sdk/client-mediaconnect';
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { fromAwsError } from '../../../src/cloud/errors.js';

const meta = (httpStatusCode: number, attempts = 1) => ({ $metadata: { httpStatusCode, attempts } });

/** An SDK service error as its deserialiser builds it for an error AWS names but the client has no class for. */
function serviceError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, ...meta(status) });
}

describe('AWS errors in words an operator can act on', () => {
  it('names the credentials when AWS refuses them or none are found', () => {
    for (const name of ['UnrecognizedClientException', 'InvalidSignatureException', 'InvalidClientTokenId', 'ExpiredTokenException']) {
      const e = fromAwsError(serviceError(name, 'no', 403), 'reading the flow', 'flow X');
      expect(e.code, name).toBe('CLOUD_AUTH_FAILED');
      expect(e.message).toContain('AWS did not accept the credentials while reading the flow');
    }
    const none = fromAwsError(
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      'reading the flow',
      'flow X',
    );
    expect(none.code).toBe('CLOUD_AUTH_FAILED');
    expect(none.message).toContain('no AWS credentials found');
  });

  it('tells a denied action from a missing resource, throttling and a network failure', () => {
    expect(fromAwsError(serviceError('ForbiddenException', 'denied', 403), 'setting the source', 'flow X').code).toBe(
      'CLOUD_ACCESS_DENIED',
    );
    expect(fromAwsError(serviceError('AccessDeniedException', 'denied', 400), 'creating the secret', 'secret S').message).toContain(
      'the README lists the IAM permissions',
    );
    const nf = new NotFoundException({ message: 'Flow not found', Message: 'Flow not found', ...meta(404) });
    expect(fromAwsError(nf, 'reading the flow', 'flow X')).toMatchObject({ code: 'CLOUD_NOT_FOUND' });
    expect(fromAwsError(new ResourceNotFoundException({ message: 'gone', ...meta(400) }), 'reading the secret', 'secret S').code).toBe(
      'CLOUD_NOT_FOUND',
    );
    const t = fromAwsError(
      new TooManyRequestsException({ message: 'slow down', Message: 'slow down', ...meta(429, 3) }),
      'reading the flow',
      'flow X',
    );
    expect(t.code).toBe('CLOUD_THROTTLED');
    expect(t.message).toContain('after 3 tries');
    const net = fromAwsError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'reading the flow',
      'flow X',
    );
    expect(net.code).toBe('CLOUD_UNREACHABLE');
    expect(fromAwsError(serviceError('BadRequestException', 'the flow is ACTIVE', 400), 'starting the flow', 'flow X')).toMatchObject({
      code: 'CLOUD_REQUEST_FAILED',
      message: 'AWS refused starting the flow for flow X (BadRequestException: the flow is ACTIVE)',
    });
  });
});
