import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parsePlatformConfig, type PlatformConfig } from '../core/platform-config';

/** The `platform` block of cdk.json, validated: the copy the operator commands act on when not told another. */
export function readPlatformConfig(): PlatformConfig {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return parsePlatformConfig(cdkJson.context?.['platform']);
}

/**
 * Flags of an operator command (`--name value`, `--switch`, `--help`). Undefined when the command is done
 * before it started: `--help` printed the usage (exit code 0), or bad flags printed it with the error (2).
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(options: O, usage: string): { values: ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'] } | { exitCode: number } {
  try {
    const { values } = parseArgs({ options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      console.log(usage);
      return { exitCode: 0 };
    }
    return { values: values as ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'] };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return { exitCode: 2 };
  }
}
