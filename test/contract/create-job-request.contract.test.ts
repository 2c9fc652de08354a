import { describe, it, expect } from 'vitest';
import { planLadder, LADDERS } from '../../core/ladder';
import { buildCreateJobRequest, type JobContext } from '../../core/mediaconvert-job';
import { validateAgainstModel } from './model-validator';
import { loadMediaConvertModel } from './load-model';
import { SAMPLE_SOURCES } from './sample-sources';

const model = loadMediaConvertModel();

const context = (perTitle: boolean): JobContext => ({
  inputS3Uri: 's3://uploads-bucket/uploads/Big Buck.mov',
  outputS3Prefix: 's3://origin-bucket/media/big-buck/r1/',
  roleArn: 'arn:aws:iam::123456789012:role/MediaConvertRole',
  queueArn: 'arn:aws:mediaconvert:eu-west-1:123456789012:queues/Default',
  assetId: 'big-buck',
  revision: 'r1',
  stackName: 'Streaming-Ingest',
  clientRequestToken: 'big-buck-r1',
  perTitle,
});

describe('CreateJob requests conform to the MediaConvert API model', () => {
  const cases = Object.entries(SAMPLE_SOURCES).flatMap(([name, source]) =>
    (Object.keys(LADDERS) as (keyof typeof LADDERS)[]).flatMap((ladder) =>
      [false, true].map((perTitle) => ({ label: `${name}, ${ladder} ladder, per-title ${perTitle ? 'on' : 'off'}`, source, ladder, perTitle })),
    ),
  );

  it.each(cases)('builds a valid request for $label', ({ source, ladder, perTitle }) => {
    // Prepare
    const plan = planLadder(source, LADDERS[ladder]);

    // Act
    const request = buildCreateJobRequest(plan, context(perTitle));

    // Assess
    expect(validateAgainstModel(model, 'CreateJobRequest', request)).toEqual([]);
  });

  it('builds a valid request without a queue and for a source below the lowest rung', () => {
    const plan = planLadder({ ...SAMPLE_SOURCES.hd1080p30Stereo, width: 64, height: 36 });
    const { queueArn: _omitted, ...withoutQueue } = context(true);

    const request = buildCreateJobRequest(plan, withoutQueue);

    expect(request.Queue).toBeUndefined();
    expect(validateAgainstModel(model, 'CreateJobRequest', request)).toEqual([]);
  });
});
