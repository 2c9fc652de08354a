/**
 * MediaConvert speaks REST-JSON whose member names on the wire are the model's `locationName`s
 * (camelCase: `settings`, `outputGroups`), while the SDK and our code use the member names
 * (PascalCase: `Settings`, `OutputGroups`). Rather than hand-maintain a mapping for hundreds of
 * shapes, the stand-in converts both ways by walking the API model the contract tests already use
 * (test/fixtures/models/mediaconvert-2017-08-29.json), so wire names are exactly AWS's.
 */
import { readFileSync } from 'node:fs';

interface ModelMember {
  shape: string;
  locationName?: string;
  location?: string;
}

interface ModelShape {
  type: string;
  members?: Record<string, ModelMember>;
  member?: { shape: string };
  value?: { shape: string };
  timestampFormat?: string;
}

export interface MediaConvertModel {
  readonly operations: Record<string, { http: { method: string; requestUri: string; responseCode?: number } }>;
  readonly shapes: Record<string, ModelShape>;
}

const MODEL_URL = new URL('../../test/fixtures/models/mediaconvert-2017-08-29.json', import.meta.url);

let cachedModel: MediaConvertModel | undefined;

export function mediaConvertModel(): MediaConvertModel {
  cachedModel ??= JSON.parse(readFileSync(MODEL_URL, 'utf8')) as MediaConvertModel;
  return cachedModel;
}

type Direction = 'fromWire' | 'toWire';

function convert(model: MediaConvertModel, shapeName: string, value: unknown, direction: Direction): unknown {
  if (value === undefined || value === null) return value;
  const shape = model.shapes[shapeName];
  if (!shape) return value;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object') return value;
      const source = value as Record<string, unknown>;
      const result: Record<string, unknown> = {};
      for (const [memberName, member] of Object.entries(shape.members ?? {})) {
        if (member.location) continue; // URI/header/query members are not part of the JSON body
        const wireName = member.locationName ?? memberName;
        const [from, to] = direction === 'fromWire' ? [wireName, memberName] : [memberName, wireName];
        if (from in source) result[to] = convert(model, member.shape, source[from], direction);
      }
      return result;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => convert(model, shape.member!.shape, item, direction)) : value;
    case 'map': {
      if (typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, item]) => [
          key,
          convert(model, shape.value!.shape, item, direction),
        ]),
      );
    }
    case 'timestamp':
      // MediaConvert's `__timestampUnix` shapes travel as epoch seconds.
      if (direction === 'toWire') return value instanceof Date ? value.getTime() / 1000 : value;
      return typeof value === 'number' ? new Date(value * 1000) : value;
    default:
      return value;
  }
}

/** Wire JSON (camelCase) → SDK-shaped object (PascalCase) for the named model shape. */
export function fromWire<T>(shapeName: string, value: unknown): T {
  return convert(mediaConvertModel(), shapeName, value, 'fromWire') as T;
}

/** SDK-shaped object (PascalCase) → wire JSON (camelCase) for the named model shape. */
export function toWire(shapeName: string, value: unknown): unknown {
  return convert(mediaConvertModel(), shapeName, value, 'toWire');
}
