import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { GLOBAL_SCOPE, PATHWAYS_KEY, type PathwayEntry, weightsKey } from '../../core/routing-types';
import { registryItemOf, seedWeightsItemOf } from '../../tables/routing-table';
import { TABLES } from '../topology';
import { tableKeyProps } from './topology-cdk';

export interface RoutingTableProps {
  /** Physical name: the edge functions bake it in at build time (they have no environment variables). */
  readonly tableName: string;
  readonly removalPolicy: RemovalPolicy;
}

/** A pathway as the registry records it; `host` may be a CloudFormation token (a distribution's domain). */
export type RegisteredPathway = PathwayEntry;

/**
 * The routing table (docs/routing.md "Items written"): the `pathways` registry written at deploy time and the
 * `weights#<scope>` items the routing-weights Lambda maintains and the steering edge function reads.
 */
export class RoutingTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: RoutingTableProps) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      ...tableKeyProps(TABLES.routing),
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
    // The same items the twin writes (tables/routing-table.ts), in DynamoDB's attribute-value JSON.
    const registryItem = marshall(registryItemOf(pathways));
    const seedItem = marshall(seedWeightsItemOf(pathways, 'seeded with equal shares at deploy time'));
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
