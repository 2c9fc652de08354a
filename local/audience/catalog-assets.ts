/**
 * The assets a twin viewer can pick: asset heads (`sk = "asset"`) in the catalog whose status is READY
 * (docs/catalog.md). A Scan is fine for the twin's tens of items; the fleet asks at most every 5 s.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function readyAssetsInCatalog(documents: DynamoDBDocumentClient, tableName: string): () => Promise<string[]> {
  return async () => {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: 'sk = :head AND #status = :ready',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':head': 'asset', ':ready': 'READY' },
          ProjectionExpression: 'assetId',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) if (typeof item.assetId === 'string') ids.push(item.assetId);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return ids.sort();
  };
}
