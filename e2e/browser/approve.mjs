// approve.mjs URL — what a person does in a real browser when sesame opens
// a login page: open URL in headless Chromium, click Approve, wait for the
// final page, save a screenshot of it.
//
//   device flow: URL is the development issuer's /device?user_code=...; the
//                code field is pre-filled; the final page says "Device approved".
//   web flow:    URL is the issuer's /authorize?...; Approve redirects to
//                sesame's loopback callback, whose page says "You are logged in".
//
// Environment:
//   SESAME_SCREENSHOT_DIR  where screenshots go (default: e2e/artifacts)
//   CHROMIUM               the browser (default: /usr/bin/chromium, Debian's)
//   APPROVE_TIMEOUT_MS     budget for the whole run (default: 60000)
//
// Exits 0 when the final page is the expected success page, 1 otherwise,
// with one line on stderr saying why. Query strings are never printed: on
// the callback they carry the authorization code.

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const screenshotDir = path.resolve(process.env.SESAME_SCREENSHOT_DIR || path.join(here, '..', 'artifacts'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const budget = Number(process.env.APPROVE_TIMEOUT_MS || 60000);

// The flags that work for Debian's chromium in a container (see the notes on
// tooling): no sandbox (root), no GPU, no QUIC, nothing phoning home.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const flows = {
  device: { success: 'Device approved', failures: ['Device denied', 'Unknown or expired code', 'Code already used', 'Bad request'] },
  web: { success: 'You are logged in', failures: ['Login failed', 'Login already handled', 'Unknown or expired request', 'Invalid request', 'Unknown client', 'Invalid redirect URI', 'Bad request'] },
};

function where(u) {
  try {
    const x = new URL(u);
    return x.origin + x.pathname;
  } catch {
    return '(not a URL)';
  }
}

// scrub drops query strings from text that may quote a URL.
function scrub(s) {
  return String(s).replace(/\?[^\s"'<>)]*/g, '?…');
}

function log(msg) {
  process.stderr.write(`approve: ${msg}\n`);
}

function flowOf(u) {
  const p = new URL(u).pathname;
  if (p.endsWith('/device')) return 'device';
  if (p.endsWith('/authorize')) return 'web';
  throw new Error(`cannot tell the flow from ${where(u)}: want a /device or /authorize URL`);
}

async function main() {
  const url = process.argv[2];
  if (!url) throw new Error('usage: node approve.mjs URL');
  const flow = flowOf(url);
  const want = flows[flow];
  mkdirSync(screenshotDir, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'sesame-chromium-'));
  const started = Date.now();
  let context;
  let page;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 900, height: 640 },
      timeout: budget,
    });
    context.setDefaultTimeout(budget);
    page = context.pages()[0] || (await context.newPage());
    log(`${flow} flow: opening ${where(url)}`);
    await page.goto(url, { waitUntil: 'load' });

    const approve = page.locator('#approve');
    await approve.waitFor({ state: 'visible' });
    if (flow === 'device') {
      const code = await page.locator('#user_code').inputValue();
      if (!/^[A-Z]{4}-?[A-Z]{4}$/.test(code)) throw new Error(`the code field is not pre-filled with a user code (${JSON.stringify(code)})`);
    }
    await page.screenshot({ path: path.join(screenshotDir, `${flow}-consent.png`) });

    await approve.click();
    // The final page: the success text, or a known failure.
    const texts = [want.success, ...want.failures];
    const found = page.getByText(new RegExp(texts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')));
    await found.first().waitFor({ state: 'visible' });
    await page.waitForLoadState('load');
    const body = await page.locator('body').innerText();
    const shot = path.join(screenshotDir, `${flow}-${body.includes(want.success) ? 'success' : 'failure'}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    if (!body.includes(want.success)) {
      throw new Error(`${flow} flow ended on ${where(page.url())}: ${body.split('\n')[0]} (screenshot ${shot})`);
    }
    log(`${flow} flow: "${want.success}" on ${where(page.url())} after ${Date.now() - started} ms; screenshot ${shot}`);
  } catch (err) {
    if (page) {
      const shot = path.join(screenshotDir, `${flow}-error.png`);
      await page.screenshot({ path: shot, fullPage: true, timeout: 5000 }).then(
        () => log(`screenshot of the page at the failure: ${shot}`),
        () => {},
      );
    }
    throw err;
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${scrub(String(err && err.message ? err.message : err).split('\n')[0])}`);
    process.exit(1);
  },
);
