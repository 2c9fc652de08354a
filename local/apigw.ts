/**
 * API Gateway HTTP API stand-in (docs/architecture.md#the-local-twin): turns Node HTTP requests into payload format 2.0
 * events for the playback and CMCD-ingest handlers, and their results into HTTP responses, following
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { closeServer, listenOnLoopback, readBody } from './http-server';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2 | undefined> | APIGatewayProxyResultV2 | undefined;

export interface HttpApiRoute {
  /** "METHOD /path/{param}/{greedy+}", "ANY /path" or "$default" — API Gateway's route key syntax. */
  readonly routeKey: string;
  readonly handler: HttpApiHandler;
  /** Lambda function name shown in the context object. @default the route key */
  readonly functionName?: string;
}

export interface HttpApiOptions {
  readonly apiId?: string;
  readonly accountId?: string;
  /** Claims of the IAM authorizer the deployed API uses by default; omit for an open route. */
  readonly iamCaller?: { readonly accountId: string; readonly userArn: string };
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|dash\+xml|vnd\.apple\.mpegurl|cmcd|x-www-form-urlencoded))/;

function routePattern(routeKey: string): { method: string; regex: RegExp; names: string[] } | undefined {
  if (routeKey === '$default') return undefined;
  const [method, path] = routeKey.split(' ', 2) as [string, string];
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy) return names.push(greedy[1]!), '(.+)';
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) return names.push(param[1]!), '([^/]+)';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { method, regex: new RegExp(`^${source}$`), names };
}

/** API Gateway's `requestContext.time` format: 12/Mar/2020:19:03:58 +0000. */
function requestTime(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(
    date.getUTCMinutes(),
  )}:${pad(date.getUTCSeconds())} +0000`;
}

export function toHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  match: { routeKey: string; pathParameters?: Record<string, string> },
  options: HttpApiOptions = {},
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies.push(...String(value).split(/;\s*/));
      continue;
    }
    // Payload v2 joins repeated headers with commas.
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  const now = new Date();
  const host = headers.host ?? '127.0.0.1';
  const apiId = options.apiId ?? 'twinapi';
  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    ...(match.pathParameters && Object.keys(match.pathParameters).length > 0 && { pathParameters: match.pathParameters }),
    requestContext: {
      accountId: options.accountId ?? '000000000000',
      apiId,
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: match.routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
      ...(options.iamCaller && {
        authorizer: {
          iam: {
            accessKey: 'ASIATWIN',
            accountId: options.iamCaller.accountId,
            callerId: 'AROATWIN:twin',
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: options.iamCaller.userArn,
            userId: 'AROATWIN:twin',
          },
        },
      }),
    } as APIGatewayProxyEventV2['requestContext'],
    ...(body.length > 0 && { body: isText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: !isText,
  };
}

export function lambdaContext(functionName: string, requestId: string, timeoutMs = 10_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'twin',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Writes a handler result as API Gateway does: a structured result as given; anything else (a
 * string, an object without `statusCode`) as a 200 JSON response.
 */
export function writeHttpApiResult(res: ServerResponse, result: APIGatewayProxyResultV2 | undefined): void {
  if (result === undefined || typeof result === 'string' || !('statusCode' in (result as object))) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const structured = result as Exclude<APIGatewayProxyResultV2, string>;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.body === undefined ? '' : structured.body;
  res.writeHead(structured.statusCode ?? 200, headers);
  res.end(structured.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

/** A Node request listener routing to payload-v2 handlers; unmatched requests get API Gateway's 404. */
export function httpApiRequestListener(routes: readonly HttpApiRoute[], options: HttpApiOptions = {}): RequestListener {
  const compiled = routes.map((route) => ({ route, pattern: routePattern(route.routeKey) }));
  return (req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      let matched: { route: HttpApiRoute; pathParameters?: Record<string, string> } | undefined;
      for (const { route, pattern } of compiled) {
        if (!pattern) continue;
        if (pattern.method !== 'ANY' && pattern.method !== req.method) continue;
        const found = pattern.regex.exec(path);
        if (!found) continue;
        const pathParameters = Object.fromEntries(pattern.names.map((n, i) => [n, decodeURIComponent(found[i + 1]!)]));
        matched = { route, pathParameters };
        break;
      }
      matched ??= compiled.find((c) => c.route.routeKey === '$default')?.route && {
        route: compiled.find((c) => c.route.routeKey === '$default')!.route,
      };
      if (!matched) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const body = await readBody(req);
      const event = toHttpApiEvent(req, body, { routeKey: matched.route.routeKey, pathParameters: matched.pathParameters }, options);
      const context = lambdaContext(matched.route.functionName ?? matched.route.routeKey, event.requestContext.requestId);
      writeHttpApiResult(res, await matched.route.handler(event, context));
    })().catch((error: unknown) => {
      // An unhandled Lambda error surfaces as API Gateway's generic 500.
      console.error('[twin apigw] handler failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    });
  };
}

export interface HttpApiServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startHttpApi(
  routes: readonly HttpApiRoute[],
  options: HttpApiOptions & { port?: number } = {},
): Promise<HttpApiServer> {
  const server: Server = createServer(httpApiRequestListener(routes, options));
  const endpoint = await listenOnLoopback(server, options.port ?? 0);
  return { endpoint, stop: () => closeServer(server) };
}
