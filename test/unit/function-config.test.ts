import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineFunctionConfig,
  envBoolean,
  envEnum,
  envInteger,
  envIntegerWithDefault,
  envJson,
  envList,
  envOptionalString,
  envString,
  FunctionConfigError,
} from '../../lambdas/shared/function-config';

const example = defineFunctionConfig({
  tableName: envString('TABLE_NAME'),
  region: envOptionalString('EXTRA_REGION'),
  mode: envEnum('MODE', ['fast', 'slow']),
  enabled: envBoolean('ENABLED'),
  days: envInteger('DAYS', { min: 1, max: 30 }),
  perMinute: envIntegerWithDefault('PER_MINUTE', 600, { min: 1 }),
  ids: envList('IDS'),
  params: envJson('PARAMS_JSON', z.strictObject({ hold: z.number().min(0) })),
});
const good = { TABLE_NAME: 'T', MODE: 'fast', ENABLED: 'true', DAYS: '7', IDS: 'a,b' };

describe('defineFunctionConfig', () => {
  it('decodes typed values and applies a field default only when the variable is unset', () => {
    // Act
    const values = example.decode(good);
    // Assess
    expect(values).toEqual({ tableName: 'T', mode: 'fast', enabled: true, days: 7, perMinute: 600, ids: ['a', 'b'] });
    expect(example.decode({ ...good, PER_MINUTE: '10' }).perMinute).toBe(10);
  });

  it('encodes values to the variables a handler decodes, leaving unset what is absent', () => {
    const env = example.encode({ tableName: 'T', mode: 'slow', enabled: false, days: 3, ids: [], params: { hold: 5 } });

    expect(env).toEqual({ TABLE_NAME: 'T', MODE: 'slow', ENABLED: 'false', DAYS: '3', IDS: '', PARAMS_JSON: '{"hold":5}' });
    expect(example.decode(env)).toMatchObject({ mode: 'slow', enabled: false, days: 3, ids: [], params: { hold: 5 } });
  });

  it.each([
    [{ ...good, TABLE_NAME: undefined }, 'environment variable TABLE_NAME (unset): is required'],
    [{ ...good, TABLE_NAME: '' }, 'environment variable TABLE_NAME (unset): is required'],
    [{ ...good, MODE: 'warp' }, 'environment variable MODE ("warp"): must be one of fast, slow'],
    [{ ...good, ENABLED: 'yes' }, 'environment variable ENABLED ("yes"): must be "true" or "false"'],
    [{ ...good, DAYS: '7.5' }, 'environment variable DAYS ("7.5"): must be an integer'],
    [{ ...good, DAYS: '0' }, 'environment variable DAYS ("0"): must be at least 1'],
    [{ ...good, DAYS: ' ' }, 'environment variable DAYS (" "): must be an integer'],
    [{ ...good, PER_MINUTE: '-1' }, 'environment variable PER_MINUTE ("-1"): must be at least 1'],
    [{ ...good, PARAMS_JSON: '{' }, 'environment variable PARAMS_JSON ("{"): is not valid JSON'],
    [{ ...good, PARAMS_JSON: '{"hold":"5"}' }, 'environment variable PARAMS_JSON ("{"hold":"5"}"): hold: '],
  ])('refuses a bad environment naming the variable and the value (%#)', (env, message) => {
    expect(() => example.decode(env)).toThrow(FunctionConfigError);
    expect(() => example.decode(env)).toThrow(message);
  });

  it('lists the variables it reads', () => {
    expect(example.variables).toEqual(['TABLE_NAME', 'EXTRA_REGION', 'MODE', 'ENABLED', 'DAYS', 'PER_MINUTE', 'IDS', 'PARAMS_JSON']);
  });
});
