import { describe, it, expect } from 'vitest';
import { planLadder, LADDERS } from '../../core/ladder';
import { buildCreateJobRequest, type JobContext } from '../../core/mediaconvert-job';
import { planFromJobSettings } from '../../core/job-settings-plan';
import { planSubtitles, subtitleSidecarOf } from '../../core/renditions';
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

describe('CreateJob requests with audio languages, surround and text renditions conform to the model', () => {
  const sidecars = [
    subtitleSidecarOf('uploads/Big Buck.mov', 'uploads/Big Buck.de.vtt')!,
    subtitleSidecarOf('uploads/Big Buck.mov', 'uploads/Big Buck.en.cc.srt')!,
    subtitleSidecarOf('uploads/Big Buck.mov', 'uploads/Big Buck.eng.scc')!,
  ];
  const cases = [
    { label: '5.1 + stereo + a second language with E-AC-3 surround', source: SAMPLE_SOURCES.multiLanguage51, surroundAudio: true, withSidecars: false },
    { label: '608 captions', source: SAMPLE_SOURCES.captions608, surroundAudio: false, withSidecars: false },
    { label: 'sidecar WebVTT, SRT and SCC', source: SAMPLE_SOURCES.hd1080p30Stereo, surroundAudio: false, withSidecars: true },
    { label: 'everything at once', source: { ...SAMPLE_SOURCES.multiLanguage51, embeddedCaptions: true }, surroundAudio: true, withSidecars: true },
  ];

  it.each(cases.flatMap((testCase) => [false, true].map((perTitle) => ({ ...testCase, perTitle }))))(
    'builds a valid request for $label (per-title $perTitle)',
    ({ source, surroundAudio, withSidecars, perTitle }) => {
      // Prepare
      const subtitles = planSubtitles(source, withSidecars ? sidecars : [], (key) => `s3://uploads-bucket/${key}`);
      const plan = { ...planLadder(source, LADDERS.standard, { surroundAudio }), subtitles };

      // Act
      const request = buildCreateJobRequest(plan, context(perTitle));

      // Assess
      expect(validateAgainstModel(model, 'CreateJobRequest', request)).toEqual([]);
      expect(planFromJobSettings(request.Settings!).subtitles ?? []).toEqual(subtitles);
      expect(planFromJobSettings(request.Settings!).audio).toEqual(plan.audio);
    },
  );
});
