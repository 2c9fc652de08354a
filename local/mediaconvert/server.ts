/**
 * MediaConvert stand-in (ADR 0070): a REST-JSON server with the real wire shapes for CreateJob,
 * GetJob, CancelJob (ADR 0012) and Probe, so `@aws-sdk/client-mediaconvert` works unmodified against it through
 * `AWS_ENDPOINT_URL_MEDIACONVERT`. Jobs are encoded by Debian's ffmpeg from the same LadderPlan
 * MediaConvert would use, uploaded to the origin bucket, and announced with EventBridge-shaped
 * "MediaConvert Job State Change" events.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CreateJobRequest, Job, JobSettings, ProbeInputFile } from '@aws-sdk/client-mediaconvert';
import { MEDIACONVERT_JOB_STATE_CHANGE } from '../../core/event-patterns';
import { planFromJobSettings } from '../../core/job-settings-plan';
import type { BusEvent } from '../event-bus';
import { closeServer, listenOnLoopback, readBody, sendJson } from '../http-server';
import { ffmpegArgsForPlan, ffmpegPosterArgs, ffmpegTextTrackArgs, finishDashManifest, POSTER, webVttMediaPlaylist, type WrittenTextTrack } from './ffmpeg-ladder';
import {
  cmafOutputGroup,
  inputUrlOf,
  parseCmafDestination,
  parseS3Url,
  type PlanFromJobSettings,
} from './job-settings';
import { probeResultFromFfprobe, runFfprobe } from './probe';
import { fromWire, toWire } from './wire-shapes';

export type JobStatus = 'SUBMITTED' | 'PROGRESSING' | 'COMPLETE' | 'ERROR' | 'CANCELED';

/** `detail` of a "MediaConvert Job State Change" event, as EventBridge delivers it. */
export interface JobStateChangeDetail {
  readonly timestamp: number;
  readonly accountId: string;
  readonly queue: string;
  readonly jobId: string;
  readonly status: JobStatus;
  readonly userMetadata: Record<string, string>;
  readonly currentPhase?: string;
  readonly jobProgress?: { phaseProgress: Record<string, unknown>; jobPercentComplete: number; currentPhase: string };
  readonly outputGroupDetails?: readonly {
    readonly outputDetails: readonly {
      readonly outputFilePaths?: readonly string[];
      readonly durationInMs: number;
      readonly videoDetails?: { readonly widthInPx: number; readonly heightInPx: number };
    }[];
    readonly type: string;
    readonly playlistFilePaths?: readonly string[];
  }[];
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

export interface MediaConvertServerOptions {
  /** Client for the twin's s3rver (see `s3ClientConfig`): reads inputs, writes outputs. */
  readonly s3: S3Client;
  /** Receives every job state change event (wire this to the event bus). */
  readonly onJobStateChange?: (event: BusEvent<JobStateChangeDetail>) => void;
  /** Settings → ladder plan. @default planFromJobSettings from core/job-settings-plan */
  readonly planFromJobSettings?: PlanFromJobSettings;
  readonly region?: string;
  readonly account?: string;
  readonly port?: number;
  /** @default '/usr/bin/ffmpeg' */
  readonly ffmpegPath?: string;
  /** @default '/usr/bin/ffprobe' */
  readonly ffprobePath?: string;
}

export interface MediaConvertServer {
  readonly endpoint: string;
  getJob(id: string): Job | undefined;
  /** Resolves when the job reaches COMPLETE, ERROR or CANCELED. */
  waitForJob(id: string): Promise<Job>;
  stop(): Promise<void>;
}

class BadRequestError extends Error {}
class NotFoundError extends Error {}
class ConflictError extends Error {}

/** MediaConvert error codes the twin reports (https://docs.aws.amazon.com/mediaconvert/latest/ug/mediaconvert_error_codes.html). */
const ERROR_CODE_INPUT_UNREADABLE = 1010;
const ERROR_CODE_INPUT_NOT_FOUND = 1030;

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
};

class JobError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function downloadTo(s3: S3Client, url: string, path: string) {
  const { bucket, key } = parseS3Url(url);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(object.Body as Readable, createWriteStream(path));
    return object;
  } catch (error) {
    throw new JobError(ERROR_CODE_INPUT_NOT_FOUND, `Unable to open input file [${url}]: ${(error as Error).name}`);
  }
}

/**
 * Runs ffmpeg; aborting `signal` kills it (and refuses to start it once aborted). Node reports the abort
 * at once, before the killed process has ended; the promise settles only when it has, so a cancelled
 * job has stopped writing by the time CancelJob answers.
 */
function run(binary: string, args: readonly string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], signal, killSignal: 'SIGKILL' });
    let stderr = '';
    let aborted: unknown;
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // No pid: the process never started (a missing binary); an abort of a started one waits for its close.
    child.on('error', (error) => (child.pid === undefined ? reject(error) : (aborted = error)));
    child.on('close', (code) => {
      if (aborted !== undefined) reject(aborted);
      else if (code === 0) resolve();
      else reject(new JobError(ERROR_CODE_INPUT_UNREADABLE, stderr.trim() || `${binary} exited ${code}`));
    });
  });
}

/**
 * ffmpeg and ffprobe name the files they read and write, which here are temp paths
 * (`/tmp/twin-mc-…/input.mp4`) that mean nothing to whoever reads the failure reason in the catalog
 * and are gone by then. MediaConvert's messages name the S3 input; so do the twin's: each local path
 * becomes its S3 name, and anything else under the work directory becomes "<job work directory>".
 */
export function withS3Names(message: string, s3Names: readonly (readonly [string, string])[], workDir: string): string {
  let text = message;
  // Longest first: the input path contains the work directory.
  for (const [local, s3] of [...s3Names].sort(([a], [b]) => b.length - a.length)) text = text.split(local).join(s3);
  return text.split(workDir).join('<job work directory>');
}

/** A FILE_GROUP frame-capture output, if the job asks for one: where MediaConvert would put the poster. */
function frameCaptureKey(settings: JobSettings, inputUrl: string): { bucket: string; key: string } | undefined {
  for (const group of settings.OutputGroups ?? []) {
    const destination = group.OutputGroupSettings?.FileGroupSettings?.Destination;
    if (group.OutputGroupSettings?.Type !== 'FILE_GROUP_SETTINGS' || !destination) continue;
    const capture = group.Outputs?.find((o) => o.VideoDescription?.CodecSettings?.Codec === 'FRAME_CAPTURE');
    if (!capture) continue;
    const { bucket, key, baseName } = parseCmafDestination(destination, inputUrl);
    return { bucket, key: `${key}${baseName}${capture.NameModifier ?? ''}.0000000.jpg` };
  }
  return undefined;
}

export async function startMediaConvertServer(options: MediaConvertServerOptions): Promise<MediaConvertServer> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const ffmpeg = options.ffmpegPath ?? '/usr/bin/ffmpeg';
  const ffprobe = options.ffprobePath ?? '/usr/bin/ffprobe';
  const queueArn = `arn:aws:mediaconvert:${region}:${account}:queues/Default`;
  const startedAt = new Date();
  const jobs = new Map<string, Job>();
  const jobIdByToken = new Map<string, string>();
  const finished = new Map<string, { promise: Promise<Job>; resolve: (job: Job) => void }>();
  // One encode at a time: the machine has 2 cores shared with everything else (docs/architecture.md#toolchain-and-stand-in-quirks).
  let queue: Promise<void> = Promise.resolve();
  // stop() kills the running encode and drops queued ones: Ctrl-C must not wait for a backlog of masters.
  const stopped = new AbortController();
  // CancelJob kills one job's ffmpeg (or keeps a queued one from starting): one controller per job.
  const cancellations = new Map<string, AbortController>();

  const emit = (job: Job, detail: Partial<JobStateChangeDetail>) => {
    options.onJobStateChange?.({
      version: '0',
      id: randomBytes(16).toString('hex'),
      'detail-type': MEDIACONVERT_JOB_STATE_CHANGE,
      source: 'aws.mediaconvert',
      account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [job.Arn!],
      detail: {
        timestamp: Date.now(),
        accountId: account,
        queue: queueArn,
        jobId: job.Id!,
        status: job.Status as JobStatus,
        userMetadata: { ...(job.UserMetadata ?? {}) },
        ...detail,
      },
    });
  };

  const update = (id: string, patch: Partial<Job>): Job => {
    const job = { ...jobs.get(id)!, ...patch };
    jobs.set(id, job);
    return job;
  };

  async function encode(id: string): Promise<void> {
    // Cancelled while queued: CancelJob announced it already.
    if (jobs.get(id)!.Status === 'CANCELED') return;
    if (stopped.signal.aborted) {
      // The twin is stopping: a queued job is dropped with it (its catalog is in memory too), not encoded.
      finished.get(id)?.resolve(update(id, { Status: 'ERROR', ErrorMessage: 'the MediaConvert stand-in stopped before this job ran' }));
      return;
    }
    const settings = jobs.get(id)!.Settings!;
    const cancel = new AbortController();
    cancellations.set(id, cancel);
    const signal = AbortSignal.any([stopped.signal, cancel.signal]);
    const workDir = await mkdtemp(join(tmpdir(), `twin-mc-${id}-`));
    // Local file → the S3 name it stands for, so an ffmpeg message names what the user uploaded.
    const s3Names: [string, string][] = [];
    try {
      let job = update(id, {
        Status: 'PROGRESSING',
        CurrentPhase: 'PROBING',
        JobPercentComplete: 0,
        Timing: { ...jobs.get(id)!.Timing, StartTime: new Date() },
      });
      emit(job, { currentPhase: 'PROBING' });

      const inputUrl = inputUrlOf(settings);
      const inputPath = join(workDir, `input${extname(inputUrl) || '.bin'}`);
      s3Names.push([inputPath, inputUrl]);
      await downloadTo(options.s3, inputUrl, inputPath);
      const probe = await runFfprobe(ffprobe, inputPath).catch((error: Error) => {
        throw new JobError(ERROR_CODE_INPUT_UNREADABLE, error.message);
      });
      const plan = (options.planFromJobSettings ?? planFromJobSettings)(settings);
      const hasAudio = probe.streams?.some((s) => s.codec_type === 'audio') ?? false;
      const encodedPlan = hasAudio ? plan : { ...plan, audio: [] };

      const { cmaf } = cmafOutputGroup(settings);
      const destination = parseCmafDestination(cmaf.Destination!, inputUrl);
      const outDir = join(workDir, 'out');
      s3Names.push([outDir, `s3://${destination.bucket}/${destination.key.replace(/\/$/, '')}`]);
      await mkdir(outDir);
      update(id, { CurrentPhase: 'TRANSCODING', JobPercentComplete: 10 });
      const durationSeconds = Number(probe.format?.duration ?? 0);
      // The video stream's own duration (the container's is the longest stream's, often the audio's).
      const videoSeconds = Number(probe.streams?.find((s) => s.codec_type === 'video')?.duration) || durationSeconds;
      await run(ffmpeg, ffmpegArgsForPlan(encodedPlan, inputPath, outDir, destination.baseName, videoSeconds), signal);
      // WebVTT renditions (ADR 0018): sidecars converted by ffmpeg; a sidecar that cannot be read
      // fails the job as MediaConvert's would. Embedded CEA-608 captions are extracted by ffmpeg (an
      // empty WebVTT file when there are no cues); when ffmpeg fails on them the rendition is left out.
      const text: WrittenTextTrack[] = [];
      for (const [index, rendition] of (encodedPlan.subtitles ?? []).entries()) {
        const vttName = `${destination.baseName}_${rendition.name}.vtt`;
        if (rendition.source.type === 'sidecar') {
          const sidecarPath = join(workDir, `sidecar-${index}.${rendition.source.format}`);
          s3Names.push([sidecarPath, rendition.source.uri]);
          await downloadTo(options.s3, rendition.source.uri, sidecarPath);
          await run(ffmpeg, ffmpegTextTrackArgs({ type: 'sidecar', path: sidecarPath }, join(outDir, vttName)), signal);
        } else {
          const c608 = probe.streams?.filter((s) => s.codec_type === 'subtitle').findIndex((s) => s.codec_name === 'eia_608') ?? -1;
          const extracted = await run(ffmpeg, ffmpegTextTrackArgs({ type: 'embedded', path: inputPath, ...(c608 >= 0 ? { embeddedStream: c608 } : {}) }, join(outDir, vttName)), signal)
            .then(() => true, () => false);
          if (!extracted) continue;
        }
        await writeFile(join(outDir, `${destination.baseName}_${rendition.name}.m3u8`), webVttMediaPlaylist(vttName, videoSeconds));
        text.push({ name: rendition.name, language: rendition.language, kind: rendition.kind });
      }
      await finishDashManifest(outDir, destination.baseName, encodedPlan, text);
      await run(
        ffmpeg,
        ffmpegPosterArgs(inputPath, join(outDir, POSTER), Math.min(1, durationSeconds / 2), encodedPlan.video[0]!.width, (encodedPlan.dynamicRange ?? 'SDR') !== 'SDR'),
        signal,
      );

      update(id, { CurrentPhase: 'UPLOADING', JobPercentComplete: 90 });
      const posterTarget = frameCaptureKey(settings, inputUrl) ?? {
        bucket: destination.bucket,
        key: `${destination.key}${POSTER}`,
      };
      for (const file of await readdir(outDir)) {
        // A job cancelled while uploading writes nothing more.
        signal.throwIfAborted();
        const target = file === POSTER ? posterTarget : { bucket: destination.bucket, key: `${destination.key}${file}` };
        await options.s3.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: target.key,
            Body: await readFile(join(outDir, file)),
            ContentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          }),
        );
      }

      const durationInMs = Math.round(durationSeconds * 1000);
      const prefixUrl = `s3://${destination.bucket}/${destination.key}${destination.baseName}`;
      job = update(id, {
        Status: 'COMPLETE',
        CurrentPhase: undefined,
        JobPercentComplete: 100,
        Timing: { ...jobs.get(id)!.Timing, FinishTime: new Date() },
        OutputGroupDetails: [
          {
            OutputDetails: encodedPlan.video.map((rung) => ({
              DurationInMs: durationInMs,
              VideoDetails: { WidthInPx: rung.width, HeightInPx: rung.height },
            })),
          },
        ],
      });
      emit(job, {
        outputGroupDetails: [
          {
            outputDetails: [
              ...encodedPlan.video.map((rung) => ({
                durationInMs,
                videoDetails: { widthInPx: rung.width, heightInPx: rung.height },
              })),
              ...encodedPlan.audio.map(() => ({ durationInMs })),
            ],
            type: 'CMAF_GROUP',
            playlistFilePaths: [`${prefixUrl}.mpd`, `${prefixUrl}.m3u8`],
          },
        ],
      });
    } catch (error) {
      if (cancel.signal.aborted) {
        // MediaConvert's CANCELED event carries the basic job details only (user guide, "Events with CANCELED status").
        emit(update(id, { Status: 'CANCELED', CurrentPhase: undefined, Timing: { ...jobs.get(id)!.Timing, FinishTime: new Date() } }), {});
        return;
      }
      const errorCode = error instanceof JobError ? error.code : ERROR_CODE_INPUT_UNREADABLE;
      const errorMessage = withS3Names((error as Error).message, s3Names, workDir);
      const job = update(id, {
        Status: 'ERROR',
        CurrentPhase: undefined,
        ErrorCode: errorCode,
        ErrorMessage: errorMessage,
        Timing: { ...jobs.get(id)!.Timing, FinishTime: new Date() },
      });
      // A job ended by stop() is not announced: the bus and the catalog are going down with the twin.
      if (!stopped.signal.aborted) emit(job, { errorCode, errorMessage });
    } finally {
      cancellations.delete(id);
      await rm(workDir, { recursive: true, force: true });
      finished.get(id)?.resolve(jobs.get(id)!);
    }
  }

  /**
   * CancelJob: a queued job is CANCELED at once; a running one has its ffmpeg killed and uploads
   * stopped, and is CANCELED when that has happened, which is when the call returns (so a GetJob
   * after it sees the end). Either way the CANCELED job state change event goes out. A job that has
   * ended is refused, as the service refuses it.
   */
  async function cancelJob(id: string): Promise<void> {
    const job = jobs.get(id);
    if (!job) throw new NotFoundError(`The specified job ${id} does not exist`);
    const running = cancellations.get(id);
    if (running) {
      running.abort();
      await finished.get(id)?.promise;
      return;
    }
    if (job.Status !== 'SUBMITTED') throw new ConflictError(`The job ${id} is ${job.Status} and can no longer be canceled`);
    emit(update(id, { Status: 'CANCELED', Timing: { ...job.Timing, FinishTime: new Date() } }), {});
    finished.get(id)?.resolve(jobs.get(id)!);
  }

  function createJob(request: CreateJobRequest): Job {
    if (!request.Role) throw new BadRequestError('Role is required');
    if (!request.Settings) throw new BadRequestError('Settings is required');
    if (request.ClientRequestToken) {
      const existing = jobIdByToken.get(request.ClientRequestToken);
      if (existing) return jobs.get(existing)!;
    }
    // Reject what the twin cannot encode now, as MediaConvert validates settings at submission.
    inputUrlOf(request.Settings);
    cmafOutputGroup(request.Settings);

    const id = `${Date.now()}-${randomBytes(3).toString('hex')}`;
    const job: Job = {
      Id: id,
      Arn: `arn:aws:mediaconvert:${region}:${account}:jobs/${id}`,
      Role: request.Role,
      Settings: request.Settings,
      Queue: request.Queue ?? queueArn,
      UserMetadata: request.UserMetadata ?? {},
      ClientRequestToken: request.ClientRequestToken,
      Priority: request.Priority ?? 0,
      Status: 'SUBMITTED',
      CreatedAt: new Date(),
      Timing: { SubmitTime: new Date() },
      StatusUpdateInterval: request.StatusUpdateInterval,
      AccelerationSettings: request.AccelerationSettings,
    };
    jobs.set(id, job);
    if (request.ClientRequestToken) jobIdByToken.set(request.ClientRequestToken, id);
    let resolve!: (job: Job) => void;
    const promise = new Promise<Job>((r) => (resolve = r));
    finished.set(id, { promise, resolve });
    queue = queue.then(() => encode(id));
    return job;
  }

  async function probe(files: readonly ProbeInputFile[]) {
    if (files.length === 0) throw new BadRequestError('InputFiles is required');
    const results = [];
    for (const file of files) {
      if (!file.FileUrl) throw new BadRequestError('FileUrl is required');
      const workDir = await mkdtemp(join(tmpdir(), 'twin-probe-'));
      try {
        const path = join(workDir, 'input');
        const object = await downloadTo(options.s3, file.FileUrl, path).catch((error: Error) => {
          throw new BadRequestError(error.message);
        });
        const ffprobeOutput = await runFfprobe(ffprobe, path).catch((error: Error) => {
          throw new BadRequestError(`Unable to probe [${file.FileUrl}]: ${withS3Names(error.message, [[path, file.FileUrl!]], workDir)}`);
        });
        results.push(
          probeResultFromFfprobe(ffprobeOutput, {
            eTag: object.ETag?.replace(/"/g, ''),
            fileSize: object.ContentLength,
            lastModified: object.LastModified,
            mimeType: object.ContentType,
          }),
        );
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    }
    return results;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = req.method === 'POST' ? JSON.parse((await readBody(req)).toString('utf8') || '{}') : {};
    if (req.method === 'POST' && path === '/2017-08-29/jobs') {
      const job = createJob(fromWire<CreateJobRequest>('CreateJobRequest', body));
      return sendJson(res, 201, toWire('CreateJobResponse', { Job: job }));
    }
    const getMatch = /^\/2017-08-29\/jobs\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && getMatch) {
      await cancelJob(decodeURIComponent(getMatch[1]!));
      return sendJson(res, 202, {});
    }
    if (req.method === 'GET' && getMatch) {
      const job = jobs.get(decodeURIComponent(getMatch[1]!));
      if (!job) throw new NotFoundError(`The specified job ${getMatch[1]} does not exist`);
      return sendJson(res, 200, toWire('GetJobResponse', { Job: job }));
    }
    if (req.method === 'POST' && path === '/2017-08-29/probe') {
      const request = fromWire<{ InputFiles?: ProbeInputFile[] }>('ProbeRequest', body);
      return sendJson(res, 200, toWire('ProbeResponse', { ProbeResults: await probe(request.InputFiles ?? []) }));
    }
    // The account's one on-demand queue, as ListQueues/GetQueue describe it (`npm run doctor -- --twin` reads it).
    if (req.method === 'GET' && path === '/2017-08-29/queues') {
      return sendJson(res, 200, toWire('ListQueuesResponse', { Queues: [defaultQueue()] }));
    }
    const queueMatch = /^\/2017-08-29\/queues\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && queueMatch) {
      const name = decodeURIComponent(queueMatch[1]!);
      if (name !== 'Default') throw new NotFoundError(`The specified queue ${name} does not exist`);
      return sendJson(res, 200, toWire('GetQueueResponse', { Queue: defaultQueue() }));
    }
    throw new NotFoundError(`no such operation: ${req.method} ${path}`);
  }

  function defaultQueue() {
    const counts = [...jobs.values()].reduce(
      (sum, job) => ({ submitted: sum.submitted + (job.Status === 'SUBMITTED' ? 1 : 0), progressing: sum.progressing + (job.Status === 'PROGRESSING' ? 1 : 0) }),
      { submitted: 0, progressing: 0 },
    );
    return {
      Arn: queueArn,
      Name: 'Default',
      Type: 'SYSTEM',
      Status: 'ACTIVE',
      PricingPlan: 'ON_DEMAND',
      CreatedAt: startedAt,
      LastUpdated: startedAt,
      SubmittedJobsCount: counts.submitted,
      ProgressingJobsCount: counts.progressing,
    };
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // REST-JSON errors: the SDK takes the modelled exception from `x-amzn-errortype`.
      const [status, type] =
        error instanceof NotFoundError
          ? [404, 'NotFoundException']
          : error instanceof ConflictError
            ? [409, 'ConflictException']
            : error instanceof BadRequestError || error instanceof Error
            ? [400, 'BadRequestException']
            : [500, 'InternalServerErrorException'];
      sendJson(res, status, { message: (error as Error).message }, { 'x-amzn-errortype': type });
    });
  });
  const endpoint = await listenOnLoopback(server, options.port ?? 0);

  return {
    endpoint,
    getJob: (id) => jobs.get(id),
    waitForJob: (id) => finished.get(id)?.promise ?? Promise.reject(new Error(`unknown job ${id}`)),
    async stop() {
      stopped.abort();
      await closeServer(server);
      await queue;
    },
  };
}
