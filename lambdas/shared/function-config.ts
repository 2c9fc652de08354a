/**
 * A Lambda function's configuration as one typed schema over its environment variables. The CDK
 * construct `encode`s the values it knows at synth time into the function's `environment`, the local
 * twin `encode`s its own values the same way, and the handler `decode`s and validates them once at cold
 * start. A default, where there is one, lives in the field and nowhere else.
 *
 * Values are strings in the environment; a field says how its string is read and written. Encoding
 * does not validate: at synth time most values are CloudFormation tokens (`${Token[…]}`) that only
 * become names at deploy time.
 */
import { z } from 'zod';

/** The environment does not hold a valid configuration; the message names the variable and the value. */
export class FunctionConfigError extends Error {
  override readonly name = 'FunctionConfigError';
}

/** One environment variable: its name, and how its text becomes a value and back. */
export interface EnvField<T> {
  readonly variable: string;
  /** Reads the variable's text (undefined when unset or empty); throws a message for a bad value. */
  decode(text: string | undefined): T;
  /** The text for a value; undefined leaves the variable unset. */
  encode(value: T): string | undefined;
}

/** A field whose default applies when the variable is unset; encoders may leave it out. */
export type DefaultedField<T> = EnvField<T> & { readonly hasDefault: true };

type Fields = Record<string, EnvField<unknown>>;
type DefaultedKeys<F extends Fields> = { [K in keyof F]: F[K] extends { readonly hasDefault: true } ? K : never }[keyof F];
type ValueOf<F> = F extends EnvField<infer T> ? T : never;
type OptionalKeys<F extends Fields> = { [K in keyof F]: undefined extends ValueOf<F[K]> ? K : never }[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;

/** The decoded configuration: optional fields may be absent. */
export type ConfigValues<F extends Fields> = { readonly [K in RequiredKeys<F>]: ValueOf<F[K]> } & {
  readonly [K in OptionalKeys<F>]?: ValueOf<F[K]>;
};

/** What an encoder supplies: every value, except that defaulted ones may be left to their default. */
export type EncodableValues<F extends Fields> = Omit<ConfigValues<F>, DefaultedKeys<F>> & Partial<Pick<ConfigValues<F>, DefaultedKeys<F> & keyof ConfigValues<F>>>;

export interface FunctionConfig<F extends Fields> {
  readonly fields: F;
  /** Every variable this configuration reads. */
  readonly variables: readonly string[];
  decode(env: Readonly<Record<string, string | undefined>>): ConfigValues<F>;
  encode(values: EncodableValues<F>): Record<string, string>;
}

/** The configuration type of a {@link FunctionConfig}. */
export type ConfigOf<C> = C extends FunctionConfig<infer F> ? ConfigValues<F> : never;

export function defineFunctionConfig<F extends Fields>(fields: F): FunctionConfig<F> {
  const entries = Object.entries(fields);
  return {
    fields,
    variables: entries.map(([, field]) => field.variable),
    decode(env) {
      const values: Record<string, unknown> = {};
      for (const [key, field] of entries) {
        const text = env[field.variable];
        let value: unknown;
        try {
          value = field.decode(text === '' ? undefined : text);
        } catch (error) {
          const shown = text === undefined || text === '' ? 'unset' : `"${text.slice(0, 120)}"`;
          throw new FunctionConfigError(`environment variable ${field.variable} (${shown}): ${(error as Error).message}`);
        }
        if (value !== undefined) values[key] = value;
      }
      return values as ConfigValues<F>;
    },
    encode(values) {
      const env: Record<string, string> = {};
      for (const [key, field] of entries) {
        const value = (values as Record<string, unknown>)[key];
        const text = value === undefined ? undefined : field.encode(value);
        if (text !== undefined) env[field.variable] = text;
      }
      return env;
    },
  };
}

/** Runs a zod schema over a value and turns its first issue into the field's message. */
function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'invalid');
  return result.data;
}

const required = <T>(decode: (text: string) => T) => (text: string | undefined): T => {
  if (text === undefined) throw new Error('is required');
  return decode(text);
};

/** A required non-empty string (a table name, an ARN, a domain). */
export function envString(variable: string): EnvField<string> {
  return { variable, decode: required((text) => text), encode: (value) => value };
}

/** An optional string; unset stays undefined. */
export function envOptionalString(variable: string): EnvField<string | undefined> {
  return { variable, decode: (text) => text, encode: (value) => value };
}

/** One of a fixed set of strings. */
export function envEnum<const T extends string>(variable: string, values: readonly T[]): EnvField<T> {
  const schema = z.enum(values as [T, ...T[]], { error: `must be one of ${values.join(', ')}` });
  return { variable, decode: required((text) => check(schema, text)), encode: (value) => value };
}

/** `true` or `false`. */
export function envBoolean(variable: string): EnvField<boolean> {
  const schema = z.enum(['true', 'false'], { error: 'must be "true" or "false"' });
  return { variable, decode: required((text) => check(schema, text) === 'true'), encode: (value) => String(value) };
}

interface IntegerOptions {
  readonly min?: number;
  readonly max?: number;
}

function integerSchema(options: IntegerOptions): z.ZodType<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  return z.coerce
    .number({ error: 'must be an integer' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
}

/** A required integer within bounds. */
export function envInteger(variable: string, options: IntegerOptions = {}): EnvField<number> {
  const schema = integerSchema(options);
  return { variable, decode: required((text) => check(schema, text.trim() === '' ? Number.NaN : text)), encode: (value) => String(value) };
}

/** An integer with a default: the one place that default lives. */
export function envIntegerWithDefault(variable: string, fallback: number, options: IntegerOptions = {}): DefaultedField<number> {
  const field = envInteger(variable, options);
  return { variable, decode: (text) => (text === undefined ? fallback : field.decode(text)), encode: field.encode, hasDefault: true };
}

/** A comma-separated list of non-empty strings (may be empty). */
export function envList(variable: string): EnvField<readonly string[]> {
  return {
    variable,
    decode: (text) => (text ?? '').split(',').map((item) => item.trim()).filter(Boolean),
    encode: (value) => value.join(','),
  };
}

/** Optional JSON checked by a zod schema. */
export function envJson<T>(variable: string, schema: z.ZodType<T>): EnvField<T | undefined> {
  return {
    variable,
    decode: (text) => {
      if (text === undefined) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error('is not valid JSON');
      }
      const result = schema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0];
        throw new Error(`${issue?.path.length ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'invalid'}`);
      }
      return result.data;
    },
    encode: (value) => (value === undefined ? undefined : JSON.stringify(value)),
  };
}
