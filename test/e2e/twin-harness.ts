/**
 * What the twin's e2e files share: the tools they need (Debian Chromium, ffmpeg) and how a missing one
 * is reported, Chromium's flags, the twin's port base, condition waits, and the player page's
 * `window.__twin` state (local/public/player.js).
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
export const MISSING = [CHROMIUM, FFMPEG].filter((path) => !existsSync(path));
export const MISSING_TOOLS = `${MISSING.join(' and ')} not installed (sudo apt-get install -y chromium ffmpeg)`;
/** A test that cannot run fails in CI; on a developer's machine it says why, loudly, and skips. */
export const SKIP_HERE = MISSING.length > 0 && !process.env.CI;
if (SKIP_HERE) console.warn(`\n[e2e] SKIPPED: ${MISSING_TOOLS}; in CI this fails the run.\n`);

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * `E2E_TWIN_PORT_BASE` moves the e2e twin's ports (docs/local-twin.md has the layout); a file with a twin
 * of its own passes its own variable and default, so a developer's runs of two files never share ports.
 */
export function portBase(variable = 'E2E_TWIN_PORT_BASE', fallback = 6160): number {
  const text = process.env[variable] ?? String(fallback);
  const base = Number(text);
  if (!Number.isInteger(base) || base < 1024 || base > 65_000) throw new Error(`${variable} must be a port number in [1024, 65000], got "${text}"`);
  return base;
}

export interface TwinPageState {
  player: string;
  format: string;
  assetState: string | null;
  currentTime: number;
  ended: boolean;
  firstFrameMs: number | null;
  pathway: string | null;
  segments: { at: number; pathway: string | null }[];
  stalls: { at: number; ms: number }[];
  currentStallMs: number;
  bitrateKbps: number | null;
  errors: string[];
  warnings: string[];
  session?: { hls: string; dash: string; sessionId: string };
  /** Audio languages and subtitles as the player reports them (local/public/player.js, ADR 0095). */
  audioTracks: TwinPageTrack[];
  audioTrack: string | null;
  audioLanguage: string | null;
  textTracks: TwinPageTrack[];
  textTrack: string | null;
  textLanguage: string | null;
  cueText: string | null;
  audioSegments: { at: number; url: string; language: string | null }[];
  videoWidth: number;
  videoHeight: number;
  videoRange: string | null;
  videoCodec: string | null;
}

export interface TwinPageTrack {
  id: string;
  language: string;
  label: string | null;
  kind: string;
}

export const pageState = (page: Page) => page.evaluate(() => (window as unknown as { __twin: TwinPageState }).__twin);

export { waitFor } from '../support/wait-for';

export const seconds = (ms: number) => Math.round(ms / 100) / 10;
