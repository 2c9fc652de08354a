/**
 * The region (continent) whose pool a small country borrows evidence from (ADR 0065). The continent of each
 * ISO 3166-1 alpha-2 code comes from the maintained `countries-list` package (its `continent` field:
 * AF, AN, AS, EU, NA, OC, SA); a code it does not know ("XX", user-assigned codes) has no region and
 * borrows from the world pool only.
 */
import { countries } from 'countries-list';

/** The pool of every country, whatever its region (a country with no known region borrows from it alone). */
export const WORLD_POOL = 'world';

export function regionOf(country: string): string | undefined {
  return (countries as Readonly<Record<string, { readonly continent: string } | undefined>>)[country]?.continent;
}
