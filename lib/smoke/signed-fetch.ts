import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

/**
 * `fetch` with AWS Signature Version 4, for the playback API's IAM authorization (API Gateway HTTP API,
 * `execute-api`). Signed by the SDK's own signer (@smithy/signature-v4, SHA-256 from @smithy/core), with the
 * credentials an SDK client resolved, so `AWS_PROFILE`, SSO and roles work as they do for the AWS CLI.
 */
export interface SignedFetchOptions {
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export type SignedFetch = (url: string, init?: { readonly method?: string; readonly body?: string }) => Promise<Response>;

export function signedFetch(options: SignedFetchOptions): SignedFetch {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const send = options.fetch ?? fetch;
  return async (url, init = {}) => {
    const target = new URL(url);
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = { host: target.host };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const query = Object.fromEntries(target.searchParams);
    const signed = await signer.sign({
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query,
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    // fetch sets Host itself and refuses to be given one.
    const { host: _host, ...sendHeaders } = signed.headers;
    return send(url, { method, headers: sendHeaders, ...(init.body !== undefined ? { body: init.body } : {}) });
  };
}
