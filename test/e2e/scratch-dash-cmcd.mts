import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { chromium } from 'playwright-core';
import { startTwin, TWIN_NAMES } from '../../local/dev';
import { generateTestMaster } from '../../local/twin/media-tools';

const twin = await startTwin({ portBase: 6260, dataDir: mkdtempSync(join(tmpdir(), 'twin-L-')) });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'] });
try {
  const work = mkdtempSync(join(tmpdir(), 'm-'));
  await generateTestMaster(join(work, 'dc.mp4'), { seconds: 12, width: 640, height: 360 });
  await twin.upload('dc.mp4', readFileSync(join(work, 'dc.mp4')));
  for (let i = 0; i < 120; i++) {
    const item = (await twin.documents.send(new GetCommand({ TableName: TWIN_NAMES.assetsTable, Key: { assetId: 'dc', sk: 'asset' } }))).Item;
    if (item?.status === 'READY') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const page = await browser.newPage();
  page.on('request', (r) => { if (r.url().includes('/v1/cmcd/')) console.log('REQ', r.method(), r.url().slice(0, 120), JSON.stringify(r.headers()), (r.postData() ?? '').slice(0, 400)); });
  page.on('response', async (r) => { if (r.url().includes('/v1/cmcd/')) console.log('RES', r.status(), r.request().method(), (await r.text().catch(() => '')).slice(0, 200)); });
  page.on('requestfailed', (r) => { if (r.url().includes('/v1/cmcd/')) console.log('FAILED', r.method(), r.failure()?.errorText); });
  await page.goto(`${twin.urls.player}?player=${process.argv[2] ?? 'dash'}&asset=dc`);
  await new Promise((r) => setTimeout(r, 15000));
  console.log(JSON.stringify(await page.evaluate(() => { const t = (window as any).__twin; return { ct: t.currentTime, errors: t.errors, warnings: t.warnings }; }), null, 1));
} finally {
  await browser.close();
  await twin.stop();
}
