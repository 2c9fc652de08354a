import { describe, expect, it } from 'vitest';
import {
  type CheckResult,
  edgeRegions,
  edgeRequestsPerViewerSecond,
  expectedRegionalConcurrency,
  exitCodeOf,
  judgeStack,
  renderReport,
  viewersPerEdgeRegion,
} from '../../core/doctor-checks';
import { platformNames } from '../../core/physical-names';
import { parsePlatformConfig } from '../../core/platform-config';
import { API_THROTTLES } from '../../lib/topology';

const config = parsePlatformConfig({ stackPrefix: 'Streaming', region: 'eu-west-1', pathways: [{ id: 'cf-a' }] });

describe('what the doctor expects of an account', () => {
  it('sizes regional concurrency from the API throttles at 10 requests per second per execution environment', () => {
    // 500 req/s playback → 50, 2,000 req/s reports → 200, plus 14 for the two stream consumers and the schedules.
    expect(expectedRegionalConcurrency(API_THROTTLES)).toBe(264);
  });

  it('counts one viewer as two segment requests per segment and one steering reload per TTL at the edge', () => {
    expect(edgeRequestsPerViewerSecond(config)).toBeCloseTo(2 / 6 + 1 / 10, 10);
    expect(viewersPerEdgeRegion(config, 1000)).toBe(23_076);
    expect(viewersPerEdgeRegion(config, 10)).toBe(230);
    expect(viewersPerEdgeRegion({ ...config, steeringTtlSeconds: 30 }, 1000)).toBe(27_272);
  });

  it('looks for edge capacity in us-east-1 and every keyring replica Region, once each', () => {
    expect(edgeRegions({ ...config, keyringReplicaRegions: ['us-west-2', 'us-east-1'] })).toEqual(['us-east-1', 'us-west-2']);
  });
});

describe('stack states', () => {
  const verdict = (status: string | undefined, edge = false) => judgeStack('Streaming', 'eu-west-1', { ok: true, value: status }, { edge });

  it.each(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'])('lets a deploy update a stack in %s', (status) => {
    expect(verdict(status).status).toBe('PASS');
  });

  it('passes a first deploy', () => {
    expect(verdict(undefined)).toMatchObject({ status: 'PASS', detail: expect.stringContaining('creates it') });
  });

  it('fails a stack whose first deploy rolled back, and says how to find the cause and clear it', () => {
    const result = verdict('ROLLBACK_COMPLETE');
    expect(result.status).toBe('FAIL');
    expect(result.fix!.join('\n')).toContain('describe-stack-events --stack-name Streaming --region eu-west-1');
    expect(result.fix!.join('\n')).toContain('aws cloudformation delete-stack --stack-name Streaming --region eu-west-1');
  });

  it('explains an edge stack stuck in DELETE_FAILED by the Lambda@Edge replicas', () => {
    const result = verdict('DELETE_FAILED', true);
    expect(result).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('Lambda@Edge replicas') });
    expect(result.fix!.join('\n')).toContain('npx cdk destroy Streaming');
  });

  it('fails while another operation runs, and for a rollback that failed', () => {
    expect(verdict('UPDATE_IN_PROGRESS').status).toBe('FAIL');
    expect(verdict('UPDATE_ROLLBACK_FAILED').fix).toEqual(['aws cloudformation continue-update-rollback --stack-name Streaming --region eu-west-1']);
  });
});

describe('the report', () => {
  const results: CheckResult[] = [
    { check: 'credentials', status: 'PASS', detail: 'account 111122223333' },
    { check: 'bootstrap us-east-1', status: 'FAIL', detail: 'not bootstrapped', fix: ['npx cdk bootstrap aws://111122223333/us-east-1'] },
  ];

  it('prints one line per check, the fix under it, and the counts', () => {
    expect(renderReport(results).split('\n')).toEqual([
      'PASS  credentials          account 111122223333',
      'FAIL  bootstrap us-east-1  not bootstrapped',
      '                           fix: npx cdk bootstrap aws://111122223333/us-east-1',
      '',
      '1 FAIL, 0 WARN, 1 PASS: fix the FAIL lines before `npx cdk deploy --all`.',
    ]);
  });

  it('exits 1 on any FAIL and 0 on warnings alone', () => {
    expect(exitCodeOf(results)).toBe(1);
    expect(exitCodeOf([{ check: 'cloudfront', status: 'WARN', detail: 'no distribution yet', fix: ['…'] }])).toBe(0);
  });
});

describe('physical names', () => {
  it('starts every name with the prefix as written', () => {
    const names = platformNames('Streaming-Staging');
    const all = [names.regionalStack, names.edgeStack, names.routingTable, names.keyringSecret, names.catalogBus, names.dashboard, ...Object.values(names.edgeFunctions), ...Object.values(names.cloudFront)];
    for (const name of all) expect(name).toMatch(/^Streaming-Staging($|[-/])/);
    expect(new Set(all).size).toBe(all.length);
  });

  it('fits the longest prefix the config accepts into 64 characters, the tightest limit (Lambda function and Origin Access Control names)', () => {
    const prefix = `S${'x'.repeat(40)}`;
    expect(parsePlatformConfig({ ...config, stackPrefix: prefix }).stackPrefix).toBe(prefix);
    const names = platformNames(prefix);
    for (const name of [...Object.values(names.edgeFunctions), ...Object.values(names.cloudFront)]) expect(name.length, name).toBeLessThanOrEqual(64);
  });
});
