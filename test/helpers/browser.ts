import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from './processes.js';

/** Where the console tests leave screenshots (gitignored; CI keeps the folder as an artifact). */
export const screenshotDir = join(repoRoot, 'test-artifacts', 'console');

/** Debian's Chromium (`apt-get install -y chromium`). Missing → a loud failure, never a skipped test. */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium is not installed, and the console browser tests need it: apt-get install -y chromium (.ci/run does this), or set CHROMIUM_PATH.',
    );
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Console errors and warnings, uncaught page errors, and requests to any origin but the gateway's. */
  problems: string[];
  /** Chrome's own "Failed to load resource" lines (status ≥ 400), kept apart: a test states which it expects. */
  failedResources: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A fresh browser context (its own sessionStorage) on `baseUrl`, recording everything that could go wrong. */
export async function openPage(browser: Browser, baseUrl: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const failedResources: string[] = [];
  page.on('console', (message) => {
    const type = message.type();
    if (type !== 'error' && type !== 'warning') return;
    const text = `${type}: ${message.text()} (${message.location().url})`;
    if (/Failed to load resource: the server responded with a status of \d+/.test(message.text()))
      failedResources.push(`${message.text().match(/status of (\d+)/)?.[1]} ${message.location().url}`);
    else problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (req) => {
    if (!req.url().startsWith(`${baseUrl}/`) && !req.url().startsWith('data:'))
      problems.push(`request outside the gateway: ${req.url()}`);
  });
  mkdirSync(screenshotDir, { recursive: true });
  return {
    page,
    context,
    problems,
    failedResources,
    screenshot: async (name) => {
      await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}
