/**
 * Where a CreateJob `Settings` reads from and writes to, as the MediaConvert stand-in needs it. The
 * ladder itself comes from `core/job-settings-plan.ts`, the inverse of the job builder, so the twin
 * encodes exactly the rungs MediaConvert would.
 */
import type { JobSettings } from '@aws-sdk/client-mediaconvert';
import type { LadderPlan } from '../../core/media-types';

export type PlanFromJobSettings = (settings: JobSettings) => LadderPlan;

export class UnsupportedJobSettingsError extends Error {
  override readonly name = 'UnsupportedJobSettingsError';
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(url);
  if (!match) throw new UnsupportedJobSettingsError(`not an s3:// URL: ${url}`);
  return { bucket: match[1]!, key: match[2]! };
}

/**
 * A CMAF Destination is `s3://bucket/prefix/base`: MediaConvert writes `base.m3u8`/`base.mpd` under
 * `prefix/`; a destination ending in `/` takes the base name from the input file's name.
 */
export function parseCmafDestination(destination: string, inputUrl: string): S3Location & { baseName: string } {
  const { bucket, key } = parseS3Url(destination);
  const slash = key.lastIndexOf('/');
  const prefix = key.slice(0, slash + 1);
  const explicitBase = key.slice(slash + 1);
  const inputName = inputUrl.slice(inputUrl.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  return { bucket, key: prefix, baseName: explicitBase || inputName };
}

export function cmafOutputGroup(settings: JobSettings) {
  const group = settings.OutputGroups?.find((g) => g.OutputGroupSettings?.Type === 'CMAF_GROUP_SETTINGS');
  if (!group?.OutputGroupSettings?.CmafGroupSettings?.Destination) {
    throw new UnsupportedJobSettingsError('the twin encodes only jobs with a CMAF output group that has a Destination');
  }
  return { group, cmaf: group.OutputGroupSettings.CmafGroupSettings };
}

export function inputUrlOf(settings: JobSettings): string {
  const input = settings.Inputs?.[0]?.FileInput;
  if (!input) throw new UnsupportedJobSettingsError('Settings.Inputs[0].FileInput is required');
  return input;
}
