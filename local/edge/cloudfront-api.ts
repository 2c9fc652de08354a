/**
 * CloudFront API stand-in (ADR 0012): the two control-plane operations the takedown worker calls,
 * `CreateInvalidation` and `GetInvalidation`, in CloudFront's REST-XML wire format (API version
 * 2020-05-31), so an unmodified `@aws-sdk/client-cloudfront` reaches it through
 * `AWS_ENDPOINT_URL_CLOUDFRONT`. An invalidation empties the matching entries of the named twin
 * distribution's cache at once and is reported `Completed` (CloudFront takes minutes; the twin has one
 * cache per distribution, not hundreds of edge locations).
 *
 * As CloudFront does: a second CreateInvalidation with the same `CallerReference` and the same paths
 * returns the first invalidation (no new one), and with other paths is refused with
 * `InvalidationBatchAlreadyExists` (CloudFront API Reference, CreateInvalidation: "CallerReference").
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { closeServer, listenOnLoopback, readBody } from '../http-server';
import type { Distribution } from './cloudfront-server';

const API_VERSION = '2020-05-31';
const XMLNS = `http://cloudfront.amazonaws.com/doc/${API_VERSION}/`;

export interface CloudFrontApiOptions {
  /** The distributions it can invalidate, by id (the twin's are its pathway ids); read at each request. */
  readonly distributions: ReadonlyMap<string, Pick<Distribution, 'invalidate'>>;
  readonly port?: number;
}

/** One invalidation as CloudFront describes it. */
export interface TwinInvalidation {
  readonly id: string;
  readonly distributionId: string;
  readonly callerReference: string;
  readonly paths: readonly string[];
  readonly createTime: Date;
  /** Cache entries it removed. */
  readonly removed: number;
}

export interface CloudFrontApi {
  readonly endpoint: string;
  /** Every invalidation created, in order. */
  readonly invalidations: readonly TwinInvalidation[];
  stop(): Promise<void>;
}

/** A CloudFront error: REST-XML `ErrorResponse`, whose `Code` the SDK turns into the modelled exception. */
class CloudFrontError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'Path' });
const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: true });

/** Reads a CreateInvalidation body: `<InvalidationBatch><Paths><Quantity/><Items><Path/>…</Items></Paths><CallerReference/></InvalidationBatch>`. */
export function parseInvalidationBatch(xml: string): { callerReference: string; paths: string[] } {
  let batch: { Paths?: { Quantity?: string; Items?: { Path?: string[] } }; CallerReference?: string } | undefined;
  try {
    batch = (parser.parse(xml) as { InvalidationBatch?: typeof batch }).InvalidationBatch;
  } catch {
    throw new CloudFrontError(400, 'MalformedXML', 'The XML you provided was not well-formed');
  }
  const callerReference = batch?.CallerReference;
  const paths = batch?.Paths?.Items?.Path ?? [];
  if (!callerReference) throw new CloudFrontError(400, 'InvalidArgument', 'CallerReference is required');
  if (paths.length === 0 || Number(batch?.Paths?.Quantity) !== paths.length) {
    throw new CloudFrontError(400, 'InconsistentQuantities', 'Paths.Quantity must equal the number of Paths.Items');
  }
  const bad = paths.find((path) => !path.startsWith('/') || path.slice(0, -1).includes('*'));
  if (bad !== undefined) throw new CloudFrontError(400, 'InvalidArgument', `invalid path ${bad}: it must start with / and may end with *, nowhere else`);
  return { callerReference, paths };
}

function invalidationXml(invalidation: TwinInvalidation): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({
    Invalidation: {
      '@_xmlns': XMLNS,
      Id: invalidation.id,
      Status: 'Completed',
      CreateTime: invalidation.createTime.toISOString(),
      InvalidationBatch: {
        Paths: { Quantity: invalidation.paths.length, Items: { Path: [...invalidation.paths] } },
        CallerReference: invalidation.callerReference,
      },
    },
  })}`;
}

function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amz-request-id': randomBytes(16).toString('hex'), ...headers }).end(xml);
}

export async function startCloudFrontApi(options: CloudFrontApiOptions): Promise<CloudFrontApi> {
  const { distributions } = options;
  const invalidations: TwinInvalidation[] = [];

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const match = new RegExp(`^/${API_VERSION}/distribution/([^/]+)/invalidation(?:/([^/]+))?$`).exec(path);
    if (!match) throw new CloudFrontError(404, 'NotImplemented', `the twin's CloudFront API does not serve ${req.method} ${path}`);
    const distributionId = decodeURIComponent(match[1]!);
    const distribution = distributions.get(distributionId);
    if (!distribution) throw new CloudFrontError(404, 'NoSuchDistribution', `The specified distribution does not exist: ${distributionId}`);

    if (req.method === 'POST' && match[2] === undefined) {
      const { callerReference, paths } = parseInvalidationBatch((await readBody(req)).toString('utf8'));
      const earlier = invalidations.find((i) => i.distributionId === distributionId && i.callerReference === callerReference);
      if (earlier && earlier.paths.join('\n') !== paths.join('\n')) {
        throw new CloudFrontError(409, 'InvalidationBatchAlreadyExists', `CallerReference ${callerReference} was used with other paths`);
      }
      const invalidation = earlier ?? {
        id: `I${randomBytes(7).toString('hex').toUpperCase()}`,
        distributionId,
        callerReference,
        paths,
        createTime: new Date(),
        removed: distribution.invalidate(paths),
      };
      if (!earlier) invalidations.push(invalidation);
      const location = `http://${req.headers.host ?? 'localhost'}/${API_VERSION}/distribution/${distributionId}/invalidation/${invalidation.id}`;
      return sendXml(res, 201, invalidationXml(invalidation), { location });
    }
    if (req.method === 'GET' && match[2] !== undefined) {
      const invalidation = invalidations.find((i) => i.distributionId === distributionId && i.id === decodeURIComponent(match[2]!));
      if (!invalidation) throw new CloudFrontError(404, 'NoSuchInvalidation', `The specified invalidation does not exist: ${match[2]}`);
      return sendXml(res, 200, invalidationXml(invalidation));
    }
    throw new CloudFrontError(405, 'NotImplemented', `the twin's CloudFront API does not serve ${req.method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const failure = error instanceof CloudFrontError ? error : new CloudFrontError(500, 'InternalError', String((error as Error)?.message ?? error));
      sendXml(
        res,
        failure.status,
        `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({
          ErrorResponse: {
            '@_xmlns': XMLNS,
            Error: { Type: failure.status < 500 ? 'Sender' : 'Receiver', Code: failure.code, Message: failure.message },
            RequestId: randomBytes(16).toString('hex'),
          },
        })}`,
      );
    });
  });
  const endpoint = await listenOnLoopback(server, options.port ?? 0);
  return {
    endpoint,
    invalidations,
    stop: () => closeServer(server),
  };
}
