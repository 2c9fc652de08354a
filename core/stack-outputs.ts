/**
 * The regional stack's CloudFormation outputs: the contract between the stack that writes them
 * (lib/stacks/streaming-platform-stack.ts), `npm run smoke`, which proves a deployment from them alone, and
 * the local twin, which writes the same outputs for its own servers to a file (ADR 0013). Output values are
 * strings, so the pathway map travels JSON-encoded, as `Stack.toJsonString` renders it.
 */
import { isPathwayId } from './identifiers';

/** Output keys (the CfnOutput construct ids, which CloudFormation keeps as written: letters and digits only). */
export const STACK_OUTPUT_KEYS = {
  uploadBucket: 'UploadBucketName',
  playbackApiUrl: 'PlaybackApiUrl',
  gatewayDomain: 'GatewayDomain',
  assetsTable: 'AssetsTableName',
  rollupsTable: 'QoeRollupsTableName',
  /** `{"<pathway id>":"<distribution domain>",…}`: `CdnDomain-cf-a` loses its dash in the output key, this does not. */
  pathways: 'PathwayDomains',
} as const;

export type StackOutputs = Readonly<Record<string, string>>;

/** What a smoke run talks to, from the outputs of one deployment (or of the twin). */
export interface SmokeTarget {
  readonly stackName: string;
  readonly region: string;
  readonly uploadBucket: string;
  readonly assetsTable: string;
  readonly rollupsTable: string;
  /** Base URL of the IAM-authenticated playback API, without a trailing slash. */
  readonly playbackApiUrl: string;
  /** `https://<gateway domain>` (the twin: `http://127.0.0.1:<port>`). */
  readonly gatewayOrigin: string;
  /** Every CloudFront pathway of the deployment, in output order. */
  readonly pathways: readonly { readonly id: string; readonly origin: string }[];
}

/** The outputs do not describe a deployment smoke can check; the message names what is missing or wrong. */
export class StackOutputsError extends Error {
  override readonly name = 'StackOutputsError';
}

export function smokeTargetFromOutputs(
  stack: { readonly stackName: string; readonly region: string },
  outputs: StackOutputs,
  scheme: 'https' | 'http' = 'https',
): SmokeTarget {
  const missing = Object.values(STACK_OUTPUT_KEYS).filter((key) => !outputs[key]);
  if (missing.length > 0) {
    throw new StackOutputsError(
      `stack ${stack.stackName} in ${stack.region} has no output ${missing.join(', ')}: deployed from an older version? run \`npx cdk deploy --all\` again`,
    );
  }
  const pathwayText = outputs[STACK_OUTPUT_KEYS.pathways]!;
  let domains: unknown;
  try {
    domains = JSON.parse(pathwayText);
  } catch {
    throw new StackOutputsError(`output ${STACK_OUTPUT_KEYS.pathways} is not JSON: ${pathwayText.slice(0, 80)}`);
  }
  if (domains === null || typeof domains !== 'object' || Array.isArray(domains)) {
    throw new StackOutputsError(`output ${STACK_OUTPUT_KEYS.pathways} must map pathway ids to domains, got ${pathwayText.slice(0, 80)}`);
  }
  const pathways = Object.entries(domains as Record<string, unknown>).map(([id, domain]) => {
    if (!isPathwayId(id) || typeof domain !== 'string' || domain === '') {
      throw new StackOutputsError(`output ${STACK_OUTPUT_KEYS.pathways} has a bad entry ${JSON.stringify(id)}: ${JSON.stringify(domain)}`);
    }
    return { id, origin: `${scheme}://${domain}` };
  });
  if (pathways.length === 0) throw new StackOutputsError(`output ${STACK_OUTPUT_KEYS.pathways} lists no pathway`);
  return {
    stackName: stack.stackName,
    region: stack.region,
    uploadBucket: outputs[STACK_OUTPUT_KEYS.uploadBucket]!,
    assetsTable: outputs[STACK_OUTPUT_KEYS.assetsTable]!,
    rollupsTable: outputs[STACK_OUTPUT_KEYS.rollupsTable]!,
    playbackApiUrl: outputs[STACK_OUTPUT_KEYS.playbackApiUrl]!.replace(/\/+$/, ''),
    gatewayOrigin: `${scheme}://${outputs[STACK_OUTPUT_KEYS.gatewayDomain]!}`,
    pathways,
  };
}

/**
 * What `npm run dev` writes to `.twin/outputs.json` once it is up: the same outputs a deployed stack has,
 * for the twin's servers, plus how to reach its AWS stand-ins. `npm run smoke -- --twin` reads it.
 */
export interface TwinOutputsFile {
  readonly stackName: string;
  readonly region: string;
  /** The twin serves plain http. */
  readonly scheme: 'http';
  readonly outputs: StackOutputs;
  /**
   * SDK endpoints of the S3 and DynamoDB stand-ins, and of the MediaConvert and Secrets Manager ones (which
   * `npm run doctor -- --twin` reads; absent in files written before it did).
   */
  readonly endpoints: { readonly s3: string; readonly dynamodb: string; readonly mediaconvert?: string; readonly secretsManager?: string };
  /** The stand-ins' fixed, fake key pair (s3rver checks signatures against it). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function parseTwinOutputsFile(text: string, source: string): TwinOutputsFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StackOutputsError(`${source} is not JSON`);
  }
  const file = value as Partial<TwinOutputsFile> | null;
  const strings = (record: unknown, keys: readonly string[]) =>
    record !== null && typeof record === 'object' && keys.every((key) => typeof (record as Record<string, unknown>)[key] === 'string');
  if (
    file === null ||
    typeof file !== 'object' ||
    typeof file.stackName !== 'string' ||
    typeof file.region !== 'string' ||
    file.scheme !== 'http' ||
    !strings(file.outputs, []) ||
    !strings(file.endpoints, ['s3', 'dynamodb']) ||
    !['mediaconvert', 'secretsManager'].every((key) => ['string', 'undefined'].includes(typeof (file.endpoints as Record<string, unknown>)[key])) ||
    !strings(file.credentials, ['accessKeyId', 'secretAccessKey'])
  ) {
    throw new StackOutputsError(`${source} is not a twin outputs file (stackName, region, scheme "http", outputs, endpoints, credentials)`);
  }
  return file as TwinOutputsFile;
}
