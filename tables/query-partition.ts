import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Every item of one partition, following `LastEvaluatedKey` until DynamoDB has returned them all (a Query
 * page stops at 1 MB). The key name goes through an expression attribute name (`#<name>`, value
 * `:<name>`): some, like `minute`, are DynamoDB reserved words. Key names are plain identifiers
 * (tables/table-schema.ts), valid in placeholders.
 */
export async function queryPartition(
  documents: DynamoDBDocumentClient,
  tableName: string,
  partitionKey: { readonly name: string; readonly value: string | number },
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: `#${partitionKey.name} = :${partitionKey.name}`,
        ExpressionAttributeNames: { [`#${partitionKey.name}`]: partitionKey.name },
        ExpressionAttributeValues: { [`:${partitionKey.name}`]: partitionKey.value },
        ExclusiveStartKey,
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}
