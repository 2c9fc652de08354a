/**
 * Runs CloudFront Functions code (runtime cloudfront-js-2.0) in Node, for the twin and the token vector
 * tests: the event and result shapes of the CloudFront Developer Guide ("CloudFront Functions event
 * structure"), the two runtime modules, and `cf.kvs()` over a map. It is honest about the runtime in the
 * ways that matter here: checkCloudFrontFunctionCode refuses code over 10 KB or importing anything but
 * 'crypto' and 'cloudfront', the code runs in its own V8 context without `require`, `process` or the
 * network, and `crypto` offers only createHmac/createHash. It does not emulate the compute-utilisation limit.
 */
import { createHash, createHmac } from 'node:crypto';
import * as vm from 'node:vm';
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestResult } from 'aws-lambda';
import { createKeyringSource, type KeyringSourceConfig } from '../../edge-functions/shared/keyring-source';
import { buildSteeringKeyFunctionCode, buildViewerAuthFunctionCode, checkCloudFrontFunctionCode } from '../../lib/bundling/cloudfront-function';
import type { SessionSteeringPolicy } from '../../core/session-steering';
import type { EdgeRequestHandler } from './cloudfront-server';
import type { TwinKeyValueStore } from './key-value-store';

export interface FunctionHeaders {
  [name: string]: { value: string };
}

export interface FunctionViewerRequestEvent {
  readonly version: '1.0';
  readonly context: { readonly eventType: 'viewer-request'; readonly distributionId: string; readonly requestId: string };
  readonly viewer: { readonly ip: string };
  readonly request: { method: string; uri: string; querystring: Record<string, { value: string }>; headers: FunctionHeaders; cookies: Record<string, { value: string }> };
}

export interface FunctionResponse {
  readonly statusCode: number;
  readonly statusDescription?: string;
  readonly headers?: FunctionHeaders;
  readonly body?: { readonly encoding: 'text' | 'base64'; readonly data: string };
}

export type FunctionResult = FunctionViewerRequestEvent['request'] | FunctionResponse;

export interface CloudFrontFunctionHost {
  /** The associated KeyValueStore: value of a key, or undefined when the store has no such key. */
  readonly kvsGet: (key: string) => string | undefined | Promise<string | undefined>;
  /** Epoch milliseconds the function's `Date.now()` returns. @default Date.now */
  readonly nowMs?: () => number;
}

export function isFunctionResponse(result: FunctionResult): result is FunctionResponse {
  return typeof (result as FunctionResponse).statusCode === 'number';
}

/** Loads function code as CloudFront would and returns its `handler`. */
export function loadCloudFrontFunction(code: string, host: CloudFrontFunctionHost): (event: FunctionViewerRequestEvent) => Promise<FunctionResult> {
  checkCloudFrontFunctionCode(code);
  const nowMs = host.nowMs ?? Date.now;
  const modules = {
    crypto: { createHmac, createHash },
    cloudfront: {
      kvs: () => ({
        // The runtime's get() rejects when the key is absent (CloudFront Developer Guide, "Helper methods for key value stores").
        get: async (key: string, options?: { format?: string }) => {
          const value = await host.kvsGet(key);
          if (value === undefined) throw new Error(`KeyValueStore: key not found`);
          return options?.format === 'json' ? JSON.parse(value) : value;
        },
      }),
    },
  };
  const context = vm.createContext({ Buffer, console, __modules: modules, __nowMs: nowMs });
  vm.runInContext('Date.now = function () { return __nowMs(); };', context);
  // `import x from "m"` is module syntax; the check above allowed only the two runtime modules.
  const script = code.replace(/\bimport\s+([A-Za-z_$][\w$]*)\s*from\s*["']([^"']+)["']\s*;?/g, (_, name: string, module: string) => `const ${name}=__modules[${JSON.stringify(module)}];`);
  const handler = vm.runInContext(`${script}\n;handler`, context, { filename: 'cloudfront-function.js' }) as unknown;
  if (typeof handler !== 'function') throw new Error('CloudFront Function code defines no handler function');
  return (event) => (handler as (e: FunctionViewerRequestEvent) => Promise<FunctionResult>)(event);
}

/**
 * The twin's adapter: a CloudFront Function as the Lambda@Edge-shaped viewer-request hook of
 * local/edge/cloudfront-server.ts, translating the event and the result both ways.
 */
export function cloudFrontFunctionAsEdgeHandler(code: string, host: CloudFrontFunctionHost): EdgeRequestHandler {
  const run = loadCloudFrontFunction(code, host);
  return async (event) => {
    const record = event.Records[0]!.cf;
    const request: CloudFrontRequest = record.request;
    const functionEvent = toFunctionEvent(record.config.distributionId, record.config.requestId, request);
    const queryBefore = JSON.stringify(functionEvent.request.querystring);
    const result = await run(functionEvent);
    return fromFunctionResult(request, result, queryBefore);
  };
}

export function toFunctionEvent(distributionId: string, requestId: string, request: CloudFrontRequest): FunctionViewerRequestEvent {
  const headers: FunctionHeaders = {};
  for (const [name, values] of Object.entries(request.headers)) if (values[0] !== undefined) headers[name] = { value: values[0].value };
  const querystring: Record<string, { value: string }> = {};
  for (const [name, value] of new URLSearchParams(request.querystring)) querystring[name] = { value };
  return { version: '1.0', context: { eventType: 'viewer-request', distributionId, requestId }, viewer: { ip: request.clientIp }, request: { method: request.method, uri: request.uri, querystring, headers, cookies: {} } };
}

/**
 * The function's result in Lambda@Edge form. A query the function changed (the steering key function rewrites
 * it) is written back from its `querystring` object; an unchanged one stays byte for byte as the viewer sent it.
 */
export function fromFunctionResult(request: CloudFrontRequest, result: FunctionResult, queryBefore?: string): CloudFrontRequestResult {
  if (!isFunctionResponse(result)) {
    request.uri = result.uri;
    if (queryBefore !== undefined && JSON.stringify(result.querystring) !== queryBefore) {
      request.querystring = Object.entries(result.querystring)
        .map(([name, { value }]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
        .join('&');
    }
    return request;
  }
  const headers: CloudFrontHeaders = {};
  for (const [name, { value }] of Object.entries(result.headers ?? {})) headers[name] = [{ key: name, value }];
  return {
    status: String(result.statusCode),
    ...(result.statusDescription !== undefined ? { statusDescription: result.statusDescription } : {}),
    headers,
    ...(result.body !== undefined ? { body: result.body.data, bodyEncoding: result.body.encoding } : {}),
  };
}

/**
 * The twin's CloudFront Functions token check: the uploaded code, with its KeyValueStore standing in for
 * the copy the rotation writes — the keyring secret itself, read through the same source the Lambda@Edge
 * check uses, so a key is in the "store" once the secret holds it.
 */
export function twinViewerAuthFunction(keyring: KeyringSourceConfig): EdgeRequestHandler {
  const source = createKeyringSource(keyring);
  return cloudFrontFunctionAsEdgeHandler(buildViewerAuthFunctionCode(), {
    kvsGet: async (kid) => (await source.get()).keys.get(kid)?.toString('base64'),
  });
}

/**
 * The twin gateway's steering key function (ADR 0036). Its store: the keyring secret as for the token check, and
 * the twin's KeyValueStore for what routing-weights writes there (the routing generations, ADR 0097).
 */
export function twinSteeringKeyFunction(
  keyring: KeyringSourceConfig,
  policy?: Pick<SessionSteeringPolicy, 'throughputFloorBps' | 'collapseRatio'>,
  store?: Pick<TwinKeyValueStore, 'get'>,
): EdgeRequestHandler {
  const source = createKeyringSource(keyring);
  return cloudFrontFunctionAsEdgeHandler(buildSteeringKeyFunctionCode(policy), {
    kvsGet: async (key) => store?.get(key) ?? (await source.get()).keys.get(key)?.toString('base64'),
  });
}
