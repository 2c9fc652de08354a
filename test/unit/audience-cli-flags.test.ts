import { describe, expect, it } from 'vitest';
import { AudienceFlagError, DEFAULT_AUDIENCE, MAX_DEV_AUDIENCE, parseAudienceFlags } from '../../local/audience/cli-flags';

describe('parseAudienceFlags', () => {
  it('gives the default audience without flags', () => {
    expect(parseAudienceFlags([])).toEqual({ sessions: DEFAULT_AUDIENCE.sessions, countries: [...DEFAULT_AUDIENCE.countries] });
  });

  it('reads the size and the countries, in either flag form', () => {
    expect(parseAudienceFlags(['--audience', '48', '--countries', 'us,de'])).toEqual({ sessions: 48, countries: ['US', 'DE'] });
    expect(parseAudienceFlags(['--audience=6', '--countries=BR'])).toEqual({ sessions: 6, countries: ['BR'] });
  });

  it('turns the audience off with --audience 0', () => {
    expect(parseAudienceFlags(['--audience', '0'])).toBe(false);
  });

  it('refuses a size that is not a whole number, a missing value, a bad country or an audience for the load harness', () => {
    expect(() => parseAudienceFlags(['--audience', 'many'])).toThrow(AudienceFlagError);
    expect(() => parseAudienceFlags(['--audience', '-3'])).toThrow(AudienceFlagError);
    expect(() => parseAudienceFlags(['--audience'])).toThrow(/needs a value/);
    expect(() => parseAudienceFlags(['--countries', 'USA'])).toThrow(/ISO 3166-1/);
    expect(() => parseAudienceFlags(['--audience', String(MAX_DEV_AUDIENCE + 1)])).toThrow(/bench/);
  });
});
