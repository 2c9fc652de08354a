/**
 * `npm run dev -- --audience 48 --countries US,DE,BR`: the built-in audience's size and countries.
 * `--audience 0` turns it off. Both flags also accept the `--flag=value` form.
 */
import { validateAudienceOptions } from './fleet';

export const DEFAULT_AUDIENCE = { sessions: 24, countries: ['US', 'DE', 'BR'] } as const;
/** More viewers than this belong in the load harness (`npm run bench -- audience`), not next to a developer's twin. */
export const MAX_DEV_AUDIENCE = 500;

export class AudienceFlagError extends Error {
  constructor(message: string) {
    super(`${message} (usage: npm run dev -- --audience <sessions> --countries US,DE,BR; --audience 0 turns it off)`);
    this.name = 'AudienceFlagError';
  }
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new AudienceFlagError(`${name} needs a value`);
      return value;
    }
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** The audience the CLI flags ask for: the default when absent, `false` for `--audience 0`. */
export function parseAudienceFlags(argv: readonly string[]): { sessions: number; countries: string[] } | false {
  const sessionsText = flagValue(argv, '--audience');
  const countriesText = flagValue(argv, '--countries');
  const sessions = sessionsText === undefined ? DEFAULT_AUDIENCE.sessions : Number(sessionsText);
  const countries = countriesText === undefined ? [...DEFAULT_AUDIENCE.countries] : countriesText.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
  if (sessionsText !== undefined && !/^\d+$/.test(sessionsText.trim())) throw new AudienceFlagError(`--audience must be a whole number of sessions, got "${sessionsText}"`);
  if (sessions > MAX_DEV_AUDIENCE) throw new AudienceFlagError(`--audience is at most ${MAX_DEV_AUDIENCE} here; larger audiences: npm run bench -- audience`);
  try {
    validateAudienceOptions({ sessions, countries });
  } catch (error) {
    throw new AudienceFlagError((error as Error).message);
  }
  return sessions === 0 ? false : { sessions, countries };
}
