import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateJobCommand,
  GetJobCommand,
  MediaConvertClient,
  NotFoundException,
  ProbeCommand,
  type JobSettings,
} from '@aws-sdk/client-mediaconvert';
import { buildCreateJobRequest, POSTER_PATH } from '../../core/mediaconvert-job';
import { sourceInfoFromProbe } from '../../core/probe';
import { startLocalAws, TWIN_CREDENTIALS, type LocalAws } from '../../local/aws-servers';
import type { BusEvent } from '../../local/event-bus';
import { startMediaConvertServer, type JobStateChangeDetail, type MediaConvertServer } from '../../local/mediaconvert/server';
import { makeTestMaster, TINY_PLAN } from './twin-media-fixtures';

function h264(width: number, height: number, maxBitrate: number, modifier: string) {
  return {
    NameModifier: modifier,
    ContainerSettings: { Container: 'CMFC' as const },
    VideoDescription: {
      Width: width,
      Height: height,
      CodecSettings: {
        Codec: 'H_264' as const,
        H264Settings: {
          RateControlMode: 'QVBR' as const,
          MaxBitrate: maxBitrate,
          QvbrSettings: { QvbrQualityLevel: 7 },
          GopSize: 25,
          GopSizeUnits: 'FRAMES' as const,
          FramerateControl: 'SPECIFIED' as const,
          FramerateNumerator: 25,
          FramerateDenominator: 1,
          CodecProfile: 'HIGH' as const,
        },
      },
    },
  };
}

function settingsFor(input: string, destination: string): JobSettings {
  return {
    Inputs: [{ FileInput: input, AudioSelectors: { 'Audio Selector 1': { DefaultSelection: 'DEFAULT' } } }],
    OutputGroups: [
      {
        Name: 'CMAF',
        OutputGroupSettings: {
          Type: 'CMAF_GROUP_SETTINGS',
          CmafGroupSettings: { Destination: destination, SegmentLength: 1, FragmentLength: 1 },
        },
        Outputs: [
          h264(320, 180, 400_000, '_180p'),
          h264(256, 144, 200_000, '_144p'),
          {
            NameModifier: '_aac',
            ContainerSettings: { Container: 'CMFC' },
            AudioDescriptions: [
              {
                CodecSettings: {
                  Codec: 'AAC',
                  AacSettings: { Bitrate: 64_000, CodingMode: 'CODING_MODE_2_0', SampleRate: 48000 },
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('twin MediaConvert', () => {
  let aws: LocalAws;
  let mediaconvert: MediaConvertServer;
  let client: MediaConvertClient;
  const events: BusEvent<JobStateChangeDetail>[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'twin-mc-test-'));

  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.createBuckets(['uploads', 'origin']);
    makeTestMaster(join(workDir, 'master.mp4'));
    await aws.clients.s3.send(
      new PutObjectCommand({
        Bucket: 'uploads',
        Key: 'uploads/Big Buck.mp4',
        Body: readFileSync(join(workDir, 'master.mp4')),
      }),
    );
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'uploads/notes.mov', Body: 'not a video' }));
    mediaconvert = await startMediaConvertServer({
      s3: aws.clients.s3,
      region: aws.region,
      onJobStateChange: (event) => events.push(event),
    });
    client = new MediaConvertClient({ endpoint: mediaconvert.endpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
  });

  afterAll(async () => {
    client?.destroy();
    await mediaconvert?.stop();
    await aws?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('answers Probe with the real ProbeResult shape from ffprobe', async () => {
    const result = await client.send(new ProbeCommand({ InputFiles: [{ FileUrl: 's3://uploads/uploads/Big Buck.mp4' }] }));

    const container = result.ProbeResults?.[0]?.Container;
    const video = container?.Tracks?.find((t) => t.TrackType === 'video');
    const audio = container?.Tracks?.find((t) => t.TrackType === 'audio');
    expect(container?.Format).toBe('mp4');
    expect(container?.Duration).toBeCloseTo(2, 0);
    expect(video?.Codec).toBe('AVC');
    expect(video?.VideoProperties).toMatchObject({ Width: 320, Height: 180, FrameRate: { Numerator: 25, Denominator: 1 } });
    expect(audio?.AudioProperties).toMatchObject({ Channels: 1, SampleRate: 48000 });
    expect(result.ProbeResults?.[0]?.Metadata?.FileSize).toBeGreaterThan(0);
  });

  it('answers Probe with the pixel aspect ratio and field order of an anamorphic interlaced master, over the wire', async () => {
    const path = join(workDir, 'pal.mp4');
    makeTestMaster(path, { size: '720x576', aspect: '16:9', interlaced: true, seconds: 1, audio: false });
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'uploads/pal.mp4', Body: readFileSync(path) }));

    const result = await client.send(new ProbeCommand({ InputFiles: [{ FileUrl: 's3://uploads/uploads/pal.mp4' }] }));

    const video = result.ProbeResults?.[0]?.Container?.Tracks?.find((t) => t.TrackType === 'video');
    expect(video?.VideoProperties).toMatchObject({
      Width: 720,
      Height: 576,
      SampleAspectRatio: { Numerator: 64, Denominator: 45 },
      DisplayAspectRatio: { Numerator: 16, Denominator: 9 },
      CodecMetadata: { ScanType: 'interlaced', FieldOrder: 'TopFieldFirst' },
    });
    expect(sourceInfoFromProbe(result.ProbeResults?.[0])).toMatchObject({
      sampleAspectRatio: { numerator: 64, denominator: 45 },
      scan: { type: 'interlaced', fieldOrder: 'top-first' },
    });
  });

  it('encodes a job into CMAF at the destination and announces PROGRESSING then COMPLETE', async () => {
    const created = await client.send(
      new CreateJobCommand({
        Role: 'arn:aws:iam::000000000000:role/MediaConvert',
        ClientRequestToken: 'big-buck-rev1',
        UserMetadata: { stack: 'twin', assetId: 'big-buck' },
        Settings: settingsFor('s3://uploads/uploads/Big Buck.mp4', 's3://origin/media/big-buck/r1/main'),
      }),
    );
    const replay = await client.send(
      new CreateJobCommand({
        Role: 'arn:aws:iam::000000000000:role/MediaConvert',
        ClientRequestToken: 'big-buck-rev1',
        Settings: settingsFor('s3://uploads/uploads/Big Buck.mp4', 's3://origin/media/big-buck/r1/main'),
      }),
    );
    const jobId = created.Job!.Id!;
    expect((await mediaconvert.waitForJob(jobId)).ErrorMessage).toBeUndefined();

    const job = (await client.send(new GetJobCommand({ Id: jobId }))).Job;
    const listing = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: 'origin', Prefix: 'media/big-buck/r1/' }));
    const keys = (listing.Contents ?? []).map((o) => o.Key);
    const hls = await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: 'origin', Key: 'media/big-buck/r1/main.m3u8' }))).Body!.transformToString();
    const mine = events.filter((e) => e.detail.jobId === jobId);
    expect(created.Job?.Status).toBe('SUBMITTED');
    expect(replay.Job?.Id).toBe(jobId);
    expect(job?.Status).toBe('COMPLETE');
    expect(job?.OutputGroupDetails?.[0]?.OutputDetails?.[0]?.VideoDetails).toEqual({ WidthInPx: 320, HeightInPx: 180 });
    expect(keys).toEqual(
      expect.arrayContaining([
        'media/big-buck/r1/main.mpd',
        'media/big-buck/r1/main.m3u8',
        'media/big-buck/r1/poster.jpg',
        'media/big-buck/r1/seg-0-00001.m4s',
      ]),
    );
    expect(hls.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    // Both rungs in one video adaptation set (ADR 0029), as MediaConvert writes them.
    const mpd = await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: 'origin', Key: 'media/big-buck/r1/main.mpd' }))).Body!.transformToString();
    expect(mpd.match(/<AdaptationSet [^>]*contentType="video"/g)).toHaveLength(1);
    expect(mpd.match(/<Representation [^>]*\swidth=/g)).toHaveLength(2);
    // The probed video duration reaches the encoder: the audio rendition ends with the video.
    const durations = async (name: string) =>
      (await (await aws.clients.s3.send(new GetObjectCommand({ Bucket: 'origin', Key: `media/big-buck/r1/${name}` }))).Body!.transformToString())
        .split('\n')
        .filter((line) => line.startsWith('#EXTINF:'))
        .map((line) => Number(line.slice(8).split(',')[0]));
    const [video, audio] = [await durations('media_0.m3u8'), await durations('media_2.m3u8')];
    expect(audio).toHaveLength(video.length);
    expect(audio.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(video.reduce((a, b) => a + b, 0));
    expect(mine.map((e) => e.detail.status)).toEqual(['PROGRESSING', 'COMPLETE']);
    expect(mine[1]).toMatchObject({
      source: 'aws.mediaconvert',
      'detail-type': 'MediaConvert Job State Change',
      detail: {
        userMetadata: { stack: 'twin', assetId: 'big-buck' },
        outputGroupDetails: [
          {
            type: 'CMAF_GROUP',
            playlistFilePaths: ['s3://origin/media/big-buck/r1/main.mpd', 's3://origin/media/big-buck/r1/main.m3u8'],
          },
        ],
      },
    });
  });

  it('encodes the request the platform\'s own job builder produces, poster at the frame-capture path', async () => {
    const request = buildCreateJobRequest(TINY_PLAN, {
      inputS3Uri: 's3://uploads/uploads/Big Buck.mp4',
      outputS3Prefix: 's3://origin/media/big-buck/r2/',
      roleArn: 'arn:aws:iam::000000000000:role/MediaConvert',
      assetId: 'big-buck',
      revision: 'r2',
      stackName: 'twin',
      clientRequestToken: 'big-buck-r2',
      perTitle: false,
    });

    const created = await client.send(new CreateJobCommand(request));
    const job = await mediaconvert.waitForJob(created.Job!.Id!);

    const listing = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: 'origin', Prefix: 'media/big-buck/r2/' }));
    const keys = (listing.Contents ?? []).map((o) => o.Key);
    expect(job.ErrorMessage).toBeUndefined();
    expect(job.Status).toBe('COMPLETE');
    expect(keys).toEqual(
      expect.arrayContaining([
        'media/big-buck/r2/main.m3u8',
        'media/big-buck/r2/main.mpd',
        `media/big-buck/r2/${POSTER_PATH}`,
      ]),
    );
  });

  it('fails a job on unreadable input with ffmpeg\'s own message in an ERROR event', async () => {
    const created = await client.send(
      new CreateJobCommand({
        Role: 'arn:aws:iam::000000000000:role/MediaConvert',
        UserMetadata: { stack: 'twin' },
        Settings: settingsFor('s3://uploads/uploads/notes.mov', 's3://origin/media/notes/r1/main'),
      }),
    );

    const job = await mediaconvert.waitForJob(created.Job!.Id!);

    const error = events.find((e) => e.detail.jobId === created.Job!.Id && e.detail.status === 'ERROR');
    expect(job.Status).toBe('ERROR');
    expect(error?.detail.errorMessage).toMatch(/Invalid data found/);
    expect(error?.detail.errorCode).toBe(1010);
  });

  it('names the S3 input, never its own temp files, in a failed job\'s message', async () => {
    const created = await client.send(
      new CreateJobCommand({
        Role: 'arn:aws:iam::000000000000:role/MediaConvert',
        Settings: settingsFor('s3://uploads/uploads/notes.mov', 's3://origin/media/notes/r2/main'),
      }),
    );

    const job = await mediaconvert.waitForJob(created.Job!.Id!);

    expect(job.ErrorMessage).toContain('s3://uploads/uploads/notes.mov');
    expect(job.ErrorMessage).not.toContain(tmpdir());
    expect(job.ErrorMessage).not.toMatch(/twin-mc-|input\.mov/);
  });

  it('names the S3 input, never its own temp files, when Probe cannot read a file', async () => {
    const probing = client.send(new ProbeCommand({ InputFiles: [{ FileUrl: 's3://uploads/uploads/notes.mov' }] }));

    const error = (await probing.catch((e: unknown) => e)) as Error;

    expect(error.message).toMatch(/^Unable to probe \[s3:\/\/uploads\/uploads\/notes\.mov\]: s3:\/\/uploads\/uploads\/notes\.mov: Invalid data found/);
    expect(error.message).not.toContain(tmpdir());
  });

  it('reports a missing input as an ERROR job rather than failing CreateJob', async () => {
    const created = await client.send(
      new CreateJobCommand({
        Role: 'arn:aws:iam::000000000000:role/MediaConvert',
        Settings: settingsFor('s3://uploads/uploads/missing.mp4', 's3://origin/media/missing/r1/main'),
      }),
    );

    const job = await mediaconvert.waitForJob(created.Job!.Id!);

    expect(job.ErrorCode).toBe(1030);
  });

  it('stops without waiting for a backlog: the running encode is killed, queued jobs are dropped, neither is announced', async () => {
    // Prepare: a second stand-in with two jobs queued.
    const seen: BusEvent<JobStateChangeDetail>[] = [];
    const own = await startMediaConvertServer({ s3: aws.clients.s3, region: aws.region, onJobStateChange: (event) => seen.push(event) });
    const ownClient = new MediaConvertClient({ endpoint: own.endpoint, region: aws.region, credentials: TWIN_CREDENTIALS });
    const ids: string[] = [];
    for (const revision of ['s1', 's2']) {
      const created = await ownClient.send(
        new CreateJobCommand({
          Role: 'arn:aws:iam::000000000000:role/MediaConvert',
          Settings: settingsFor('s3://uploads/uploads/Big Buck.mp4', `s3://origin/media/big-buck/${revision}/main`),
        }),
      );
      ids.push(created.Job!.Id!);
    }
    ownClient.destroy();

    // Act
    await own.stop();

    // Assess
    const jobs = await Promise.all(ids.map((id) => own.waitForJob(id)));
    expect(jobs.map((job) => job.Status)).toEqual(['ERROR', 'ERROR']);
    expect(seen.map((event) => event.detail.status).filter((status) => status !== 'PROGRESSING')).toEqual([]);
  });

  it('answers GetJob for an unknown id with NotFoundException', async () => {
    await expect(client.send(new GetJobCommand({ Id: 'nope' }))).rejects.toBeInstanceOf(NotFoundException);
  });
});
