import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { GLOBAL_SCOPE, PATHWAYS_KEY, weightsKey } from '../../core/routing-types';

export interface RoutingTableProps {
  /** Physical name: the edge functions bake it in at build time (they have no environment variables). */
  readonly tableName: string;
  readonly removalPolicy: RemovalPolicy;
}

/** A pathway as the registry records it; `host` may be a CloudFormation token (a distribution's domain). */
export interface RegisteredPathway {
  readonly id: string;
  readonly host: string;
  readonly enabled: boolean;
  readonly cap: number;
}

/**
 * The routing table (DESIGN.md §6): the `pathways` registry written at deploy time and the
 * `weights#<scope>` items the routing-weights Lambda maintains and the steering edge function reads.
 */
export class RoutingTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: RoutingTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }

  /**
   * Writes the pathway registry on every deploy and seeds `weights#*` with equal shares once
   * (a later deploy never overwrites weights the routing-weights Lambda has learned).
   */
  publishPathways(pathways: readonly RegisteredPathway[]): void {
    const registryItem = {
      pk: { S: PATHWAYS_KEY },
      pathways: {
        L: pathways.map((p) => ({
          M: { id: { S: p.id }, host: { S: p.host }, enabled: { BOOL: p.enabled }, cap: { N: String(p.cap) } },
        })),
      },
    };
    const enabled = pathways.filter((p) => p.enabled);
    const share = enabled.length > 0 ? 1 / enabled.length : 0;
    const seedItem = {
      pk: { S: weightsKey(GLOBAL_SCOPE) },
      scope: { S: GLOBAL_SCOPE },
      weights: { M: Object.fromEntries(enabled.map((p) => [p.id, { N: share.toFixed(6) }])) },
      version: { N: '0' },
      updatedAt: { S: '1970-01-01T00:00:00.000Z' },
      reason: { S: 'seeded with equal shares at deploy time' },
    };
    const policy = AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.table.tableArn] });
    const putRegistry = {
      service: 'DynamoDB',
      action: 'PutItem',
      parameters: { TableName: this.table.tableName, Item: registryItem },
      physicalResourceId: PhysicalResourceId.of(`${PATHWAYS_KEY}`),
    };
    new AwsCustomResource(this, 'PathwayRegistry', {
      onCreate: putRegistry,
      onUpdate: putRegistry,
      policy,
      installLatestAwsSdk: false,
    });
    const seed = {
      service: 'DynamoDB',
      action: 'PutItem',
      parameters: { TableName: this.table.tableName, Item: seedItem, ConditionExpression: 'attribute_not_exists(pk)' },
      physicalResourceId: PhysicalResourceId.of(weightsKey(GLOBAL_SCOPE)),
      ignoreErrorCodesMatching: 'ConditionalCheckFailed',
    };
    new AwsCustomResource(this, 'SeedGlobalWeights', { onCreate: seed, onUpdate: seed, policy, installLatestAwsSdk: false });
  }
}
