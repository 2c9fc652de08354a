import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, synthPlatform, type SynthResult } from './synth';

let synth: SynthResult;
beforeAll(() => {
  synth = synthPlatform();
});
afterAll(() => cleanup(synth));

// Renaming a stateful resource's logical id makes CloudFormation replace it: buckets and tables would be
// emptied or orphaned. These ids are a contract; change them only with a migration plan.
describe('stateful resources keep their logical ids', () => {
  const logicalIds = (type: string) => Object.keys(synth.template.findResources(type)).sort();

  it('buckets', () => {
    expect(logicalIds('AWS::S3::Bucket')).toEqual([
      expect.stringMatching(/^StorageAccessLogsBucket[0-9A-F]{8}$/),
      expect.stringMatching(/^StorageOriginBucket[0-9A-F]{8}$/),
      expect.stringMatching(/^StorageUploadBucket[0-9A-F]{8}$/),
    ]);
  });

  it('tables', () => {
    expect(logicalIds('AWS::DynamoDB::GlobalTable')).toEqual([
      expect.stringMatching(/^RoutingTable[0-9A-F]{8}$/),
      expect.stringMatching(/^StorageAssetsTable[0-9A-F]{8}$/),
      expect.stringMatching(/^TelemetryQoeRollups[0-9A-F]{8}$/),
      expect.stringMatching(/^TelemetryReportRateLimits[0-9A-F]{8}$/),
    ]);
  });

  it('telemetry stream and keyring secret', () => {
    expect(logicalIds('AWS::Kinesis::Stream')).toEqual([
      // Holds minutes of in-flight rollup partials (ADR 0057); replacing it loses at most those.
      expect.stringMatching(/^TelemetryRollupPartialsStream[0-9A-F]{8}$/),
      expect.stringMatching(/^TelemetryTelemetryStream[0-9A-F]{8}$/),
    ]);
    expect(logicalIds('AWS::SecretsManager::Secret')).toEqual([
      expect.stringMatching(/^KeyringSecret[0-9A-F]{8}$/),
      // Holds no data: replacing it rotates the gateway's origin-verify value (ADR 0055).
      expect.stringMatching(/^TelemetryIngestOriginSecret[0-9A-F]{8}$/),
    ]);
  });

  it('pins the exact ids', () => {
    expect({
      buckets: logicalIds('AWS::S3::Bucket'),
      tables: logicalIds('AWS::DynamoDB::GlobalTable'),
      streams: logicalIds('AWS::Kinesis::Stream'),
      secrets: logicalIds('AWS::SecretsManager::Secret'),
    }).toMatchInlineSnapshot(`
      {
        "buckets": [
          "StorageAccessLogsBucketFEE4D6FB",
          "StorageOriginBucketB9B7AE29",
          "StorageUploadBucket27F6648B",
        ],
        "secrets": [
          "KeyringSecret2F72956B",
          "TelemetryIngestOriginSecret5F9B83A1",
        ],
        "streams": [
          "TelemetryRollupPartialsStream0F255AC9",
          "TelemetryTelemetryStream473406FB",
        ],
        "tables": [
          "RoutingTableD964968C",
          "StorageAssetsTable7E0C4A24",
          "TelemetryQoeRollups0BA8C4A2",
          "TelemetryReportRateLimits6069DBEF",
        ],
      }
    `);
  });
});
