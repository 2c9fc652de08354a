import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TableSchema } from '../../tables/table-schema';
import type { HttpRoute, PlatformFunctionName } from '../topology';

/** The key attributes and TTL of a TableV2, from the table's schema (tables/table-schema.ts). */
export function tableKeyProps(schema: TableSchema): Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey' | 'timeToLiveAttribute'> {
  const attribute = (key: TableSchema['partitionKey']): dynamodb.Attribute => ({
    name: key.name,
    type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
  });
  return {
    partitionKey: attribute(schema.partitionKey),
    ...(schema.sortKey ? { sortKey: attribute(schema.sortKey) } : {}),
    ...(schema.timeToLiveAttribute ? { timeToLiveAttribute: schema.timeToLiveAttribute } : {}),
  };
}

/**
 * Adds the topology's routes (lib/topology.ts) to an HTTP API, each integrated with the function that
 * handles it; one integration per function, so routes of one function share it.
 */
export function addHttpRoutes(
  api: apigwv2.HttpApi,
  routes: readonly HttpRoute[],
  functions: Partial<Record<PlatformFunctionName, lambda.IFunction>>,
): void {
  const integrations = new Map<PlatformFunctionName, HttpLambdaIntegration>();
  for (const route of routes) {
    const fn = functions[route.handledBy];
    if (fn === undefined) throw new Error(`route ${route.method} ${route.path}: no function given for ${route.handledBy}`);
    let integration = integrations.get(route.handledBy);
    if (integration === undefined) {
      integration = new HttpLambdaIntegration(`${pascalCase(route.handledBy)}Integration`, fn);
      integrations.set(route.handledBy, integration);
    }
    api.addRoutes({ path: route.path, methods: [apigwv2.HttpMethod[route.method]], integration });
  }
}

const pascalCase = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
