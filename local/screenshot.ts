/**
 * Saves a PNG of a page, for README screenshots of the twin's pages:
 *
 *   npx tsx local/screenshot.ts http://127.0.0.1:4590/operator.html docs/images/operator.png [--wait 8000] [--width 1440] [--height 900] [--full]
 *
 * Uses Debian's Chromium through playwright-core (`npx playwright install` cannot run offline; the
 * flags: docs/architecture.md#toolchain-and-stand-in-quirks). Only loopback URLs are accepted: the twin is the only thing to shoot.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { isLocalhostName } from './http-server';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ScreenshotOptions {
  readonly url: string;
  readonly outputPath: string;
  /** Milliseconds to wait after load, so polling pages have drawn a few samples. @default 5000 */
  readonly waitMs?: number;
  readonly width?: number;
  readonly height?: number;
  /** Capture the whole scrollable page. @default false */
  readonly fullPage?: boolean;
}

export async function screenshot(options: ScreenshotOptions): Promise<void> {
  const { hostname } = new URL(options.url);
  if (hostname !== '127.0.0.1' && !isLocalhostName(hostname)) throw new Error(`only loopback URLs, got ${options.url}`);
  // A fresh profile per run: no state leaks between screenshots.
  const profile = await mkdtemp(join(tmpdir(), 'twin-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(options.url, { waitUntil: 'load' });
    await page.waitForTimeout(options.waitMs ?? 5_000);
    await page.screenshot({ path: options.outputPath, fullPage: options.fullPage ?? false });
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const [url, outputPath] = args;
  if (!url || !outputPath || url.startsWith('--')) {
    console.error('usage: npx tsx local/screenshot.ts <url> <out.png> [--wait ms] [--width px] [--height px] [--full]');
    process.exit(2);
  }
  const number = (name: string) => (flag(args, name) === undefined ? undefined : Number(flag(args, name)));
  screenshot({ url, outputPath, waitMs: number('--wait'), width: number('--width'), height: number('--height'), fullPage: args.includes('--full') })
    .then(() => console.log(`saved ${outputPath}`))
    .catch((error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    });
}
