/**
 * Per-session pathway priority by weighted rendezvous hashing (docs/steering.md).
 *
 * Every pathway gets a score `w / -ln(u)` where `u` is a stable pseudo-random number in (0, 1)
 * drawn from (session id, pathway id). `-ln(u) / w` is an exponential variable with rate `w`, so
 * the pathway with the highest score wins with probability `w_i / Σw` (the "exponential race").
 * Because each score depends only on its own pathway's weight, changing one weight can only move
 * sessions to or from that pathway: every other pairwise comparison is unchanged (minimal churn).
 * See docs/adr/0040-weighted-rendezvous-ranking.md.
 */

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** Murmur3's 32-bit finaliser: full avalanche, so nearby inputs give unrelated outputs. */
function avalanche32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Stable number strictly inside (0, 1) for a (session, pathway) pair, with 53 bits of entropy.
 * Two independent 32-bit lanes (FNV-1a and a multiply-rotate lane) run over the characters of
 * both strings with a separator, so "ab"+"c" and "a"+"bc" differ. No crypto: this runs per
 * pathway per request and needs speed and uniformity, not secrecy.
 */
export function rendezvousUniform(sessionId: string, pathwayId: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  const mix = (code: number): void => {
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b = (b << 15) | (b >>> 17);
  };
  for (let i = 0; i < sessionId.length; i++) mix(sessionId.charCodeAt(i));
  mix(0x1f); // unit separator: not a legal character of ids or session ids
  for (let i = 0; i < pathwayId.length; i++) mix(pathwayId.charCodeAt(i));
  const high21 = avalanche32(a ^ Math.imul(b, 0x27d4eb2d)) >>> 11;
  const low32 = avalanche32(b ^ a);
  // +0.5 keeps u away from exactly 0 and 1, where ln(u) is -Infinity or 0.
  return (high21 * TWO_POW_32 + low32 + 0.5) / TWO_POW_53;
}

interface Scored {
  readonly id: string;
  readonly weight: number;
  readonly score: number;
}

const byScoreThenId = (x: Scored, y: Scored): number => (y.score - x.score) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/**
 * All pathways of `weights`, best first for this session. Pathways with a positive weight are
 * ranked by weighted rendezvous; pathways with weight 0 (or a negative / non-finite weight, read
 * as 0) follow, ranked by unweighted rendezvous so that failover order is also spread evenly and
 * stable per session.
 */
export function rankPathways(sessionId: string, weights: Readonly<Record<string, number>>): string[] {
  const weighted: Scored[] = [];
  const unweighted: Scored[] = [];
  for (const id of Object.keys(weights)) {
    const raw = weights[id];
    const weight = typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : 0;
    const u = rendezvousUniform(sessionId, id);
    const minusLnU = -Math.log(u);
    if (weight > 0) weighted.push({ id, weight, score: weight / minusLnU });
    else unweighted.push({ id, weight: 0, score: 1 / minusLnU });
  }
  weighted.sort(byScoreThenId);
  unweighted.sort(byScoreThenId);
  const ranked = new Array<string>(weighted.length + unweighted.length);
  let i = 0;
  for (const s of weighted) ranked[i++] = s.id;
  for (const s of unweighted) ranked[i++] = s.id;
  return ranked;
}
