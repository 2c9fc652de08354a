import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServiceModel } from './model-validator';

/** The MediaConvert API model as published in botocore (see test/fixtures/models/README.md). */
export function loadMediaConvertModel(): ServiceModel {
  const path = fileURLToPath(new URL('../fixtures/models/mediaconvert-2017-08-29.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as ServiceModel;
}
