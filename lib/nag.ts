import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** Construct metadata type under which every cdk-nag acknowledgement is also recorded, so tests and docs can list them. */
export const NAG_ACK_METADATA = 'platform:nag-acknowledgement';

/**
 * Acknowledges one cdk-nag finding on a construct. Every acknowledgement in the app goes through here so
 * that `test/infra/nag.test.ts` can list them with their reasons and hold them to the reviewed table in
 * docs/cdk-nag.md.
 */
export function acknowledgeNagFinding(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a real reason, got "${reason}"`);
  Validations.of(scope).acknowledge({ id, reason });
  scope.node.addMetadata(NAG_ACK_METADATA, { id, reason });
}
