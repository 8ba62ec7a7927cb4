import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/runtime/fake-clock.js';
import { testRuntime } from '../../test/runtime/runtime-fixtures.js';
import { type MockProvider, startMockProvider } from '../mock-provider/mock-provider.js';
import type { RunAttempt } from './chain-runner.js';

const brief = (a: RunAttempt) =>
  `${a.provider}@${a.authProfile}:${a.status}${a.errorCode ? `:${a.errorCode}` : ''}`;

describe('runRole with deterministic providers (default chain)', () => {
  it('answers with the deterministic format and says it is deterministic', async () => {
    const { runtime } = testRuntime();
    const result = await runtime.runRole({
      role: 'critic',
      prompt: 'health probe:\n  summarize   fallback readiness',
    });
    expect(result.failed).toBe(false);
    expect(result.mode).toBe('deterministic');
    expect(result.selectedProvider).toBe('local-primary');
    expect(result.output).toBe(
      '[local-primary@default] Critique: health probe: summarize fallback readiness',
    );
    expect(result.attempts.map(brief)).toEqual(['local-primary@default:success']);
    expect(result.usage?.inputTokens).toBeGreaterThan(0);
  });

  it('gives the judge a parseable verdict and cuts prompts to 240 characters', async () => {
    const { runtime } = testRuntime();
    const result = await runtime.runRole({ role: 'judge', prompt: 'x'.repeat(500) });
    expect(result.output).toMatch(
      /^\[local-primary@default\] Verdict: x{240}\nverdict: merge confidence: 0\.80$/,
    );
  });

  it('retries a retryable failure once with jittered backoff, then fails over in chain order and opens the circuit', async () => {
    const { runtime, clock } = testRuntime(
      {},
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_UNAVAILABLE' } } },
    );
    const result = await runtime.runRole({ role: 'author', prompt: 'p' });
    expect(result.attempts.map(brief)).toEqual([
      'local-primary@default:failed:AI_PROVIDER_UNAVAILABLE',
      'local-primary@default:failed:AI_PROVIDER_UNAVAILABLE',
      'local-fallback@default:success',
    ]);
    expect(result.selectedProvider).toBe('local-fallback');
    expect(clock.sleeps).toEqual([150]); // 200 ms ceiling, jitter 0.5 → 100 + 50
    const [primary] = (await runtime.profiles()).providers;
    expect(primary).toMatchObject({
      provider: 'local-primary',
      coolingDown: true,
      circuit: 'open',
      lastFailureCode: 'AI_PROVIDER_UNAVAILABLE',
      reason: 'unavailable',
    });
  });

  it('skips an open circuit, then lets exactly one probe through after the cooldown and closes on success', async () => {
    const { runtime, clock } = testRuntime(
      { AI_PROVIDER_COOLDOWN_MS: '30000' },
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_HTTP_ERROR', failTimes: 2 } } },
    );
    await runtime.runRole({ role: 'maker', prompt: 'p' });
    const skipped = await runtime.runRole({ role: 'maker', prompt: 'p' });
    expect(skipped.attempts.map(brief)).toEqual([
      'local-primary@default:skipped_cooldown',
      'local-fallback@default:success',
    ]);
    expect(skipped.attempts[0]?.latencyMs).toBeNull();
    clock.advance(30_000);
    const probe = await runtime.runRole({ role: 'maker', prompt: 'p' });
    expect(probe.attempts.map(brief)).toEqual(['local-primary@default:success']);
    const [primary] = (await runtime.profiles()).providers;
    expect(primary).toMatchObject({ circuit: 'closed', coolingDown: false, cooldownUntil: null });
  });

  it('admits exactly one half-open probe among 20 concurrent calls', async () => {
    const { runtime, clock } = testRuntime(
      {},
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_UNAVAILABLE', failTimes: 2, latencyMs: 5 } } },
    );
    await runtime.runRole({ role: 'critic', prompt: 'p' });
    clock.advance(30_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => runtime.runRole({ role: 'critic', prompt: 'p' })),
    );
    const primaryTries = results
      .flatMap((r) => r.attempts)
      .filter((a) => a.provider === 'local-primary' && a.status !== 'skipped_cooldown');
    expect(primaryTries).toHaveLength(1);
    expect(results.every((r) => !r.failed)).toBe(true);
  });

  it('reopens with backoff when the probe fails', async () => {
    const { runtime, clock } = testRuntime(
      { AI_PROVIDER_COOLDOWN_MS: '1000', AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0' },
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_HTTP_ERROR' } } },
    );
    await runtime.runRole({ role: 'critic', prompt: 'p' });
    const first = (await runtime.profiles()).providers[0]!;
    expect(Date.parse(first.cooldownUntil!) - clock.now()).toBe(1000);
    clock.advance(1000);
    await runtime.runRole({ role: 'critic', prompt: 'p' });
    const second = (await runtime.profiles()).providers[0]!;
    expect(Date.parse(second.cooldownUntil!) - clock.now()).toBe(2000);
    expect(second.profiles[0]?.failureCount).toBe(2);
  });

  it('a probe whose caller cancels hands the lease back: the next call probes at once instead of being refused', async () => {
    const { runtime, clock } = testRuntime(
      {},
      {
        scripts: {
          'local-primary': { failCode: 'AI_PROVIDER_UNAVAILABLE', failTimes: 2, latencyMs: 1000 },
        },
      },
    );
    await runtime.runRole({ role: 'critic', prompt: 'p' });
    clock.advance(30_000);
    // The caller goes away 100 ms into the probe (the adapter takes 1 s).
    const caller = new AbortController();
    clock.setTimer(100, () => caller.abort(new Error('client left')));
    const cancelled = await runtime.runRole({ role: 'critic', prompt: 'p', signal: caller.signal });
    expect(cancelled.failed).toBe(true);
    expect(cancelled.attempts.map(brief)).toEqual(['local-primary@default:failed:AI_PROVIDER_ERROR']);
    // Without the hand-back the lease (2 × the attempt timeout) would refuse the primary for 24 s.
    const next = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(next.attempts.map(brief)).toEqual(['local-primary@default:success']);
    expect((await runtime.profiles()).providers[0]).toMatchObject({ circuit: 'closed' });
  });

  it('a probe that failed and whose caller cancels during the backoff reopens the circuit (a verdict, not a hand-back)', async () => {
    const { runtime, clock } = testRuntime(
      {},
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_UNAVAILABLE' } } },
    );
    await runtime.runRole({ role: 'critic', prompt: 'p' });
    clock.advance(30_000);
    // The probe fails at once; the caller goes away 50 ms into the 150 ms backoff before its retry.
    const caller = new AbortController();
    clock.setTimer(50, () => caller.abort(new Error('client left')));
    const cancelled = await runtime.runRole({ role: 'critic', prompt: 'p', signal: caller.signal });
    expect(cancelled.attempts.map(brief)).toEqual(['local-primary@default:failed:AI_PROVIDER_UNAVAILABLE']);
    const [primary] = (await runtime.profiles()).providers;
    expect(primary).toMatchObject({ circuit: 'open', coolingDown: true });
    expect(primary?.profiles[0]?.failureCount).toBe(2);
    // Reopened with the doubled cooldown: the next call does not probe the provider that just failed.
    const next = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(next.attempts.map(brief)[0]).toBe('local-primary@default:skipped_cooldown');
  });

  it('does not retry or open the circuit for a bad request, and fails over', async () => {
    const { runtime } = testRuntime(
      {},
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_BAD_REQUEST', httpStatus: 400 } } },
    );
    const result = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(result.attempts.map(brief)).toEqual([
      'local-primary@default:failed:AI_PROVIDER_BAD_REQUEST',
      'local-fallback@default:success',
    ]);
    expect(result.attempts[0]?.httpStatus).toBe(400);
    expect((await runtime.profiles()).providers[0]).toMatchObject({ circuit: 'closed', coolingDown: false });
  });

  it('honours Retry-After within the bound, and fails over (circuit open for Retry-After) beyond it', async () => {
    const short = testRuntime(
      {},
      {
        scripts: {
          'local-primary': { failCode: 'AI_PROVIDER_RATE_LIMITED', retryAfterMs: 1500, failTimes: 1 },
        },
      },
    );
    const ok = await short.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(short.clock.sleeps).toEqual([1500]);
    expect(ok.attempts.map(brief)).toEqual([
      'local-primary@default:failed:AI_PROVIDER_RATE_LIMITED',
      'local-primary@default:success',
    ]);

    const long = testRuntime(
      {},
      { scripts: { 'local-primary': { failCode: 'AI_PROVIDER_RATE_LIMITED', retryAfterMs: 90_000 } } },
    );
    const over = await long.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(long.clock.sleeps).toEqual([]);
    expect(over.selectedProvider).toBe('local-fallback');
    const primary = (await long.runtime.profiles()).providers[0]!;
    expect(primary.reason).toBe('rate_limited');
    expect(Date.parse(primary.cooldownUntil!) - long.clock.now()).toBe(90_000);
  });

  it('times out an attempt without a same-route retry, and stops at the run deadline', async () => {
    const { runtime } = testRuntime(
      { AI_RUNTIME_ATTEMPT_TIMEOUT_MS: '1000' },
      { scripts: { 'local-primary': { latencyMs: 5000 } } },
    );
    const result = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(result.attempts.map(brief)).toEqual([
      'local-primary@default:failed:AI_PROVIDER_TIMEOUT',
      'local-fallback@default:success',
    ]);
    expect(result.attempts[0]?.latencyMs).toBe(1000);
    expect((await runtime.profiles()).providers[0]?.reason).toBe('timeout');

    const slow = testRuntime(
      { AI_RUNTIME_RUN_DEADLINE_MS: '3000' },
      { scripts: { 'local-primary': { latencyMs: 5000 } } },
    );
    const stopped = await slow.runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(stopped).toMatchObject({ failed: true, deadlineExceeded: true, output: null, latencyMs: 3000 });
    expect(stopped.attempts.map(brief)).toEqual(['local-primary@default:failed:AI_PROVIDER_TIMEOUT']);
  });

  it('rotates auth profiles before failing over, each profile with its own circuit', async () => {
    const env = {
      AI_CRITIC_MODEL_CHAIN: 'multi,local-fallback',
      AI_RUNTIME_MULTI_AUTH_PROFILES: 'first,second',
    };
    const { runtime } = testRuntime(env, {
      scripts: { 'multi@first': { failCode: 'AI_PROVIDER_AUTH_ERROR' } },
    });
    const result = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(result.attempts.map(brief)).toEqual([
      'multi@first:failed:AI_PROVIDER_AUTH_ERROR',
      'multi@second:success',
    ]);
    const multi = (await runtime.profiles()).providers.find((p) => p.provider === 'multi')!;
    expect(multi).toMatchObject({ coolingDown: false, activeProfile: 'second', circuit: 'closed' });
    expect(multi.profiles[0]).toMatchObject({ reason: 'auth_error', coolingDown: true });
  });

  it('reports every attempt to onAttempt (the metrics hook)', async () => {
    const seen: string[] = [];
    const { runtime } = testRuntime(
      {},
      {
        scripts: { 'local-primary': { failCode: 'AI_PROVIDER_BAD_RESPONSE' } },
        extra: { onAttempt: (role, a) => seen.push(`${role}:${brief(a)}`) },
      },
    );
    await runtime.runRole({ role: 'judge', prompt: 'p' });
    expect(seen).toEqual([
      'judge:local-primary@default:failed:AI_PROVIDER_BAD_RESPONSE',
      'judge:local-fallback@default:success',
    ]);
  });
});

describe('runRole against the mock provider over HTTP', () => {
  let mock: MockProvider;
  beforeAll(async () => {
    mock = await startMockProvider();
  });
  afterAll(async () => mock.close());

  const live = (model: string, extra: Record<string, string> = {}) => ({
    AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
    AI_CRITIC_MODEL_CHAIN: 'upstream,local-fallback',
    AI_RUNTIME_UPSTREAM_KIND: 'openai',
    AI_RUNTIME_UPSTREAM_ENDPOINT: `${mock.url}/v1`,
    AI_RUNTIME_UPSTREAM_API_KEY: 'sk-test-secret',
    AI_RUNTIME_UPSTREAM_MODEL: model,
    ...extra,
  });

  it('aborts the socket when an attempt times out (the mock sees the connection closed)', async () => {
    const clock = new FakeClock();
    const { runtime } = testRuntime(live('mock-hang'), { clock });
    const aborts = mock.stats.clientAborts;
    const requested = new Promise((resolve) => mock.events.once('request', resolve));
    const closed = new Promise((resolve) => mock.events.once('client-abort', resolve));
    const run = runtime.runRole({ role: 'critic', prompt: 'p' });
    await requested;
    clock.advance(12_000);
    const result = await run;
    await closed;
    expect(mock.stats.clientAborts).toBe(aborts + 1);
    expect(result.attempts.map(brief)).toEqual([
      'upstream@default:failed:AI_PROVIDER_TIMEOUT',
      'local-fallback@default:success',
    ]);
    await runtime.close();
  });

  it('never reports an empty answer as a success', async () => {
    const { runtime } = testRuntime(live('mock-empty'));
    const result = await runtime.runRole({ role: 'critic', prompt: 'p' });
    expect(result.attempts[0]).toMatchObject({
      status: 'failed',
      errorCode: 'AI_PROVIDER_BAD_RESPONSE',
      mode: 'live',
    });
    expect(result.selectedProvider).toBe('local-fallback');
    await runtime.close();
  });

  it('returns the live answer with usage and the model that answered', async () => {
    const { runtime } = testRuntime(live('gpt-mock'));
    const result = await runtime.runRole({ role: 'critic', prompt: 'review this' });
    expect(result).toMatchObject({
      failed: false,
      mode: 'live',
      selectedProvider: 'upstream',
      selectedModel: 'gpt-mock',
    });
    expect(result.output).toContain('review this');
    expect(result.usage).toEqual({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    await runtime.close();
  });
});

describe('runRole cancellation', () => {
  it('a cancelled run returns a failed result instead of throwing, aborts the socket and does not blame the provider', async () => {
    const mock = await startMockProvider();
    try {
      const controller = new AbortController();
      const { runtime } = testRuntime({
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_CRITIC_MODEL_CHAIN: 'upstream,local-fallback',
        AI_RUNTIME_UPSTREAM_KIND: 'openai',
        AI_RUNTIME_UPSTREAM_ENDPOINT: `${mock.url}/v1`,
        AI_RUNTIME_UPSTREAM_API_KEY: 'k',
        AI_RUNTIME_UPSTREAM_MODEL: 'mock-hang',
      });
      const requested = new Promise((resolve) => mock.events.once('request', resolve));
      const closed = new Promise((resolve) => mock.events.once('client-abort', resolve));
      const run = runtime.runRole({ role: 'critic', prompt: 'p', signal: controller.signal });
      await requested;
      controller.abort(new Error('client went away'));
      const result = await run;
      await closed;
      expect(result).toMatchObject({ failed: true, output: null });
      expect(result.attempts.map(brief)).toEqual(['upstream@default:failed:AI_PROVIDER_ERROR']);
      expect((await runtime.profiles()).providers[0]?.circuit).toBe('closed');
      await runtime.close();
    } finally {
      await mock.close();
    }
  });
});
