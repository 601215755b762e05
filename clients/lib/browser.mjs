// Headless Chromium (the Debian package, fake audio device) on a page served by the test: the page
// bundles the official SDK with esbuild at test time into a temporary directory.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const CLIENTS = dirname(dirname(fileURLToPath(import.meta.url)));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** Bundles page/rtc-page.js (and the SDK) into dir/rtc-page.bundle.js. */
export async function bundlePage(dir) {
  const outfile = join(dir, 'rtc-page.bundle.js');
  await build({
    entryPoints: [join(CLIENTS, 'page', 'rtc-page.js')], bundle: true, format: 'esm', platform: 'browser',
    target: 'chrome120', outfile, logLevel: 'silent', absWorkingDir: CLIENTS,
  });
  return outfile;
}

/** Serves the page and its bundle on 127.0.0.1: its origin is what the guard must allow. */
export async function servePage(bundle) {
  const html = '<!doctype html><meta charset="utf-8"><title>duck-e webrtc</title><h1>duck-e webrtc</h1>'
    + '<pre id="log"></pre><script type="module" src="/rtc-page.bundle.js"></script>';
  const js = readFileSync(bundle);
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
    else if (req.url === '/rtc-page.bundle.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js);
    else res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }) };
}

/** Launches Chromium with a fresh profile; returns { context, newPage, close }. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'duck-e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
  });
  return {
    context,
    /** A page at origin/, with window.rtc ready; console lines go to the page's log array. */
    async newPage(origin) {
      const page = await context.newPage();
      const log = [];
      page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      page.consoleLog = log;
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => window.rtcReady === true, null, { timeout: 15_000 });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page (with its state printed) under target/webrtc/. */
export async function screenshot(page, name) {
  const dir = join(dirname(CLIENTS), 'target', 'webrtc');
  mkdirSync(dir, { recursive: true });
  await page.evaluate(() => {
    const s = window.rtc.state;
    const lines = [JSON.stringify(window.rtc.status()), `events: ${s.events.length}`,
      ...s.connection.map((c) => `connection: ${c.status}`), ...s.errors.map((e) => `error: ${e.message}`),
      `types: ${[...new Set(window.rtc.types())].join(', ')}`];
    document.getElementById('log').textContent = lines.join('\n');
  }).catch(() => {});
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path }).catch(() => {});
  return path;
}
