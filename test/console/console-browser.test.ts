import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import { type ConsolePage, launchChromium, openPage } from '../helpers/browser.js';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';
import { startTelemetryFake } from './telemetry-fake.js';

// The callbacks given to page.evaluate/waitForFunction run in the browser; this file is type-checked without the
// DOM library (and the console's CSP forbids evaluating strings), so it declares the little it touches there.
declare const document: {
  activeElement: { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
declare const location: { hash: string };
declare const sessionStorage: { length: number };

const S = '/api/admin/agent-gateway/sessions';
const STEP_TYPES = ['critic', 'maker', 'judge'].map((role) => `draft_cycle_${role}_completed`);

/**
 * The admin console in Debian's headless Chromium against a real gateway: critic, maker and judge answer from the
 * project's mock provider with 700 ms latency (so a cycle's steps arrive one by one), the author's first provider
 * answers 503 (so a real run opens its circuit).
 */
describe('admin console in a real browser', () => {
  let t: TestGateway;
  let mock: MockProvider;
  let browser: Browser;
  const pages: ConsolePage[] = [];

  beforeAll(async () => {
    mock = await startMockProvider({
      script: {
        models: {
          'judge-merge': { latencyMs: 700, text: 'Clear and accurate.\nverdict: merge confidence: 0.90' },
        },
      },
    });
    const provider = (id: string, model: string) => ({
      [`AI_RUNTIME_${id}_KIND`]: 'openai',
      [`AI_RUNTIME_${id}_ENDPOINT`]: `${mock.url}/v1`,
      [`AI_RUNTIME_${id}_API_KEY`]: `${id.toLowerCase()}-key-0123456789`,
      [`AI_RUNTIME_${id}_MODEL`]: model,
    });
    t = await startTestGateway({
      listen: true,
      env: {
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_PROVIDER_COOLDOWN_MS: '120000',
        ...provider('SLOW', 'mock-latency-700'),
        ...provider('SLOW_JUDGE', 'judge-merge'),
        ...provider('FLAKY', 'mock-status-503'),
        AI_AUTHOR_MODEL_CHAIN: 'flaky,local-primary',
        AI_CRITIC_MODEL_CHAIN: 'slow,local-fallback',
        AI_MAKER_MODEL_CHAIN: 'slow,local-fallback',
        AI_JUDGE_MODEL_CHAIN: 'slow-judge,local-fallback',
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
    await mock?.close();
  });

  async function open(baseUrl = t.url): Promise<ConsolePage> {
    const p = await openPage(browser, baseUrl);
    pages.push(p);
    return p;
  }

  /** Signs in from the keyboard: type the token, press Enter. */
  async function signIn(p: ConsolePage, token: string = TEST_TOKENS.admin, baseUrl = t.url) {
    await p.page.goto(`${baseUrl}/admin`);
    await p.page.locator('#token').fill(token);
    await p.page.keyboard.press('Enter');
  }

  function expectClean(p: ConsolePage, failedResources: RegExp[] = []) {
    expect(p.problems).toEqual([]);
    expect(p.failedResources.length, p.failedResources.join('\n')).toBe(failedResources.length);
    for (const [i, pattern] of failedResources.entries()) expect(p.failedResources[i]).toMatch(pattern);
  }

  it('signs in and shows the four roles, deterministic and live providers on Runtime', async () => {
    const p = await open();
    await signIn(p);
    await p.page.locator('[data-runtime-level]').waitFor();
    expect(await p.page.locator('#identity').innerText()).toContain('default');
    expect(await p.page.locator('[data-runtime-level]').getAttribute('data-runtime-level')).toBe('healthy');
    const roles = await p.page.locator('[data-table=roles] tbody tr td:first-child').allInnerTexts();
    expect(roles).toEqual(['author', 'critic', 'maker', 'judge']);
    const criticChain = await p.page
      .locator('[data-table=roles] tbody tr:nth-child(2) .chain li')
      .allInnerTexts();
    expect(criticChain).toEqual(['slow', 'local-fallback']);
    const row = (id: string) => p.page.locator('[data-table=providers] tbody tr', { hasText: id }).first();
    expect(await row('local-primary').innerText()).toContain('deterministic');
    expect(await row('slow-judge').innerText()).toContain('live');
    await p.screenshot('runtime');

    // Keyboard: reach a page through the navigation; focus lands on the new page's heading.
    await p.page.locator('a[data-page=sessions]').focus();
    await p.page.keyboard.press('Enter');
    await p.page.waitForFunction(() => document.activeElement?.textContent === 'Sessions');
    expect(new URL(p.page.url()).hash).toBe('#/sessions');
    expectClean(p);
  });

  it('dry-run with a simulated failure shows the failed attempt and the fallback that answered', async () => {
    const p = await open();
    await signIn(p);
    await p.page.locator('form[aria-labelledby=dry-run-title]').waitFor();
    await p.page.getByLabel('Role').selectOption('critic');
    await p.page.getByLabel('Simulate failures').fill('slow');
    await p.page.getByRole('button', { name: 'Run dry-run' }).click();
    await p.page.locator('.dry-run-result').waitFor();
    const attempts = await p.page.locator('[data-table=attempts] tbody tr').allInnerTexts();
    expect(attempts[0]).toMatch(/slow@default\s+failed/);
    expect(attempts.at(-1)).toMatch(/local-fallback@default\s+success/);
    expect(await p.page.locator('.dry-run-result').getAttribute('data-failed')).toBe('false');
    expect(await p.page.locator('.dry-run-result').innerText()).toContain(
      'answered from local-fallback@default',
    );
    await p.screenshot('runtime-dry-run');
    expectClean(p);
  });

  it('shows an open circuit with its reason and a live countdown to cooldownUntil', async () => {
    // A real author run (a conversation reply) fails on `flaky` (503) and opens its circuit.
    const created = await adminRequest(t, 'POST', S, { channel: 'console-reply' });
    const id = created.json().session.id;
    await adminRequest(t, 'POST', `${S}/${id}/events`, {
      fromRole: 'observer',
      toRole: 'author',
      type: 'observer_message',
      payload: { text: 'hello' },
    });
    for (let i = 0; i < 100; i++) {
      const health = (await adminRequest(t, 'GET', '/api/admin/ai-runtime/health')).json();
      if (health.providers.find((s: { provider: string }) => s.provider === 'flaky')?.coolingDown) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const p = await open();
    await signIn(p);
    const flaky = p.page.locator('[data-table=providers] tbody tr', { hasText: 'flaky' }).first();
    await flaky.locator('.countdown').waitFor();
    const text = await flaky.innerText();
    expect(text).toContain('open');
    expect(text).toContain('AI_PROVIDER_UNAVAILABLE');
    const before = await flaky.locator('.countdown').innerText();
    expect(before).toMatch(/^\(in \d+ min \d+ s\)$/);
    await p.page.waitForFunction(
      (was) => document.querySelector('[data-table=providers] .countdown')?.textContent !== was,
      before,
      { timeout: 5000 },
    );
    // Still healthy: the author has local-primary; one provider cooling is not the runbook's >50 %.
    expect(await p.page.locator('[data-runtime-level]').getAttribute('data-runtime-level')).toBe('healthy');
    await p.screenshot('runtime-circuit-open');
    expectClean(p);
  });

  it('creates a draft, starts a cycle and watches the three step events arrive live, then the verdict', async () => {
    const p = await open();
    await signIn(p);
    await p.page.locator('a[data-page=drafts]').click();
    await p.page.getByLabel('Title').fill('Console launch note');
    await p.page.getByLabel('Body', { exact: true }).fill("We're shipping the console <today> & it's small.");
    await p.page.getByRole('button', { name: 'Create draft' }).click();
    await p.page.locator('h1', { hasText: 'Console launch note' }).waitFor();
    await p.page.getByRole('button', { name: 'Start cycle' }).click();

    const live = p.page.locator('.cycle-live');
    const step = (type: string) => live.locator(`[data-event-type=${type}]`);
    await step('draft_cycle_critic_completed').waitFor({ timeout: 20_000 });
    // The maker and judge each take 700 ms more: they cannot be on the page yet.
    expect(await step('draft_cycle_judge_completed').count()).toBe(0);
    await step('draft_cycle_maker_completed').waitFor({ timeout: 20_000 });
    expect(await step('draft_cycle_judge_completed').count()).toBe(0);
    await step('draft_cycle_judge_completed').waitFor({ timeout: 20_000 });
    for (const type of STEP_TYPES) expect(await step(type).getAttribute('data-via'), type).toBe('stream');

    await p.page.locator('[data-verdict=merge]').waitFor({ timeout: 20_000 });
    expect(await p.page.locator('.cycle-outcome').innerText()).toMatch(
      /verdict: merge confidence 0\.9 → revision 2/,
    );
    await live.locator('[data-stream-state=ended]').waitFor();
    await p.page.waitForFunction(
      () => document.querySelectorAll('[data-table=revisions] tbody tr').length === 2,
    );
    expect(await p.page.locator('[data-table=revisions] tbody tr:nth-child(2)').innerText()).toMatch(
      /orchestration\s+merge/,
    );
    await p.screenshot('drafts');
    expectClean(p);
  });

  it('finds a session by filter, expands a payload from the keyboard, compacts and closes it', async () => {
    const created = await adminRequest(t, 'POST', S, { channel: 'console-ops', externalSessionId: 'ops-1' });
    const id = created.json().session.id as string;
    for (let i = 1; i <= 6; i++) {
      await adminRequest(t, 'POST', `${S}/${id}/events`, {
        fromRole: 'observer',
        type: 'note',
        payload: { text: `message ${i} <b>not markup</b>` },
      });
    }
    const p = await open();
    await signIn(p);
    await p.page.locator('a[data-page=sessions]').click();
    await p.page.getByLabel('Channel').fill('console-ops');
    await p.page.getByRole('button', { name: 'Apply filters' }).click();
    await p.page.waitForFunction(() => location.hash.includes('channel=console-ops'));
    await p.page.locator('[data-table=sessions] tbody tr').first().waitFor();
    expect(await p.page.locator('[data-table=sessions] tbody tr').count()).toBe(1);
    await p.screenshot('sessions');
    await p.page.locator('[data-table=sessions] tbody a', { hasText: id }).click();

    await p.page.locator('[data-stream-state=live]').waitFor();
    expect(await p.page.locator('.timeline > li').count()).toBe(6);
    // Payloads open from the keyboard and show text, never markup.
    await p.page.locator('li[data-seq="1"] summary').focus();
    await p.page.keyboard.press('Enter');
    const payload = p.page.locator('li[data-seq="1"] pre');
    await payload.waitFor();
    expect(await payload.innerText()).toContain('message 1 <b>not markup</b>');
    expect(await payload.locator('b').count()).toBe(0);

    await p.page.getByLabel('Keep the newest events').fill('2');
    await p.page.getByRole('button', { name: 'Compact' }).click();
    await p.page.getByRole('dialog').getByRole('button', { name: 'Compact' }).click();
    await p.page.getByText('Compacted: 4 archived, 2 kept (of 6).').waitFor();
    await p.page.waitForFunction(() => document.querySelectorAll('.timeline > li').length === 3);
    const seqs = await p.page
      .locator('.timeline > li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-event-type')));
    expect(seqs).toEqual(['note', 'note', 'session_compacted']);

    // Escape cancels the confirmation: nothing is closed.
    await p.page.getByRole('button', { name: 'Close session' }).click();
    await p.page.getByRole('dialog').waitFor();
    await p.page.keyboard.press('Escape');
    await p.page.getByRole('dialog').waitFor({ state: 'detached' });
    expect((await adminRequest(t, 'GET', `${S}/${id}/status`)).json().status.status).toBe('active');

    await p.page.getByRole('button', { name: 'Close session' }).click();
    await p.page.getByRole('dialog').getByRole('button', { name: 'Close session' }).click();
    await p.page.locator('[data-event-type=session_closed][data-via=stream]').waitFor();
    await p.page.locator('[data-stream-state=ended]').waitFor();
    expect(await p.page.getByRole('button', { name: 'Close session' }).isDisabled()).toBe(true);
    await p.page.waitForFunction(() => document.querySelector('.panel')?.textContent?.includes('closed'));
    await p.screenshot('session');

    const status = (await adminRequest(t, 'GET', `${S}/${id}/status`)).json().status;
    expect(status).toMatchObject({ status: 'closed', compactCount: 1 });
    const audit = (await adminRequest(t, 'GET', '/api/admin/audit?limit=50')).json().entries as {
      action: string;
      target: string;
      tokenId: string;
    }[];
    for (const action of ['sessions.compact', 'sessions.close'])
      expect(audit.find((e) => e.action === action && e.target === id)?.tokenId).toBe('default');
    expectClean(p);
  });

  it('a read-only token sees every page but no mutation control', async () => {
    const session = (await adminRequest(t, 'POST', S, { channel: 'console-readonly' })).json().session.id;
    const draft = (
      await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'Read only', body: 'x' })
    ).json().draft.id;
    const p = await open();
    await signIn(p, TEST_TOKENS.read);
    await p.page.locator('[data-runtime-level]').waitFor();
    expect(await p.page.locator('#identity').innerText()).toMatch(/reader[\s\S]*read-only/);
    const views: [string, string][] = [
      ['#/runtime', '[data-table=roles]'],
      ['#/sessions', '[data-table=sessions]'],
      [`#/sessions/${session}`, '[data-stream-state=live]'],
      ['#/drafts', '[data-table=drafts]'],
      [`#/drafts/${draft}`, '[data-table=revisions]'],
    ];
    for (const [hash, ready] of views) {
      await p.page.evaluate((to) => {
        location.hash = to;
      }, hash);
      await p.page.locator(ready).waitFor();
      expect(await p.page.locator('[data-mutation]').count(), hash).toBe(0);
      const mutations = p.page.getByRole('button', {
        name: /Run dry-run|Compact|Close session|Create draft|Start cycle/,
      });
      expect(await mutations.count(), hash).toBe(0);
      if (hash.startsWith('#/sessions/')) await p.screenshot('read-only-session');
    }
    // The same views with an operate token do show them (the check above is not vacuous).
    const o = await open();
    await signIn(o, TEST_TOKENS.operate);
    await o.page.locator('[data-runtime-level]').waitFor();
    await o.page.evaluate((to) => {
      location.hash = to;
    }, `#/sessions/${session}`);
    await o.page.locator('[data-stream-state=live]').waitFor();
    expect(await o.page.locator('[data-mutation]').count()).toBe(2);
    expectClean(p);
    expectClean(o);
  });

  it('a wrong token gets a clear message and stays on the sign-in form', async () => {
    const p = await open();
    await signIn(p, 'not-the-token-0123456789');
    const alert = p.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('did not accept that token (ADMIN_TOKEN_INVALID)');
    expect(await p.page.locator('#nav').isHidden()).toBe(true);
    expect(await p.page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await p.page.locator('#token').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await p.screenshot('sign-in-wrong-token');
    // The only failed request is the refused token check itself (Chrome logs every 4xx).
    expectClean(p, [/^401 .*\/api\/admin\/whoami$/]);
  });

  it("Telemetry shows the gateway's own snapshot (level, sessions, attempts) with no errors", async () => {
    const api = (
      await adminRequest(t, 'GET', '/api/admin/agent-gateway/telemetry?hours=24&limit=200')
    ).json();
    const p = await open();
    await signIn(p);
    await p.page.locator('[data-runtime-level]').waitFor();
    await p.page.locator('a[data-page=telemetry]').click();
    await p.page.locator('[data-telemetry-state=loaded]').waitFor();
    expect(await p.page.locator('[data-telemetry-level]').getAttribute('data-telemetry-level')).toBe(
      api.health.level,
    );
    await p.screenshot('telemetry-live');
    expectClean(p);
  });

  it('Telemetry draws a SPEC-shaped snapshot served by a local fake', async () => {
    const fake = await startTelemetryFake(t.url);
    try {
      const p = await open(fake.url);
      await signIn(p, TEST_TOKENS.read, fake.url);
      await p.page.locator('[data-runtime-level]').waitFor();
      await p.page.locator('a[data-page=telemetry]').click();
      await p.page.locator('[data-telemetry-state=loaded]').waitFor();
      expect(fake.requests[0]).toEqual({ query: 'hours=24&limit=200', token: TEST_TOKENS.read });
      const hours = await p.page
        .locator('svg.chart g.column')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      expect(hours).toEqual(['20:00', '21:00', '22:00']);
      expect(await p.page.locator('[data-telemetry-level]').getAttribute('data-telemetry-level')).toBe(
        'watch',
      );
      const connectors = await p.page.locator('[data-table=connectors] tbody tr').allInnerTexts();
      expect(connectors[0]).toMatch(/telegram_main[\s\S]*standard\s+40\s+2\s+3/);
      expect(connectors[1]).toMatch(/discord_main[\s\S]*restricted\s+3\s+0\s+5/);
      const profiles = await p.page.locator('[data-table=profiles] tbody tr').allInnerTexts();
      expect(profiles).toHaveLength(2);
      expect(profiles[0]).toMatch(
        /telegram_main\s+external_webhook\s+telegram\s+observer\s+author\s+observer_message/,
      );
      expect(await p.page.locator('svg.chart title').first().textContent()).toContain(
        'Compactions per UTC hour',
      );
      await p.screenshot('telemetry');

      await p.page.getByLabel('Window').selectOption('72');
      await p.page.getByRole('button', { name: 'Apply' }).click();
      await p.page.waitForFunction(() => location.hash === '#/telemetry?hours=72');
      // The 24 h render's "loaded" marker can still be on the page when the hash changes: wait for the new request
      // to arrive, then for the page to have drawn its answer.
      await expect.poll(() => fake.requests.at(-1)?.query).toBe('hours=72&limit=200');
      await p.page.locator('[data-telemetry-state=loaded]').waitFor();
      expectClean(p);
    } finally {
      await fake.close();
    }
  });
}, 120_000);
