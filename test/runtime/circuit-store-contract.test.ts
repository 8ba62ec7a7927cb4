import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/runtime/circuit-breaker.js';
import { type CircuitStore, MemoryCircuitStore } from '../../src/runtime/circuit-store.js';
import { RedisCircuitStore } from '../../src/runtime/redis-circuit-store.js';
import { FakeClock } from './fake-clock.js';

interface StoreFactory {
  name: string;
  /** Two stores that share state (two replicas); for memory, the same instance. */
  pair(): { a: CircuitStore; b: CircuitStore };
}

const unavailable = { code: 'AI_PROVIDER_UNAVAILABLE' as const, retryAfterMs: null, httpStatus: 503 };
const policy = { cooldownMs: 30_000, probeLeaseMs: 24_000 };

/** One contract for every circuit store: the breaker behaves the same on each. */
function circuitContract(factory: () => StoreFactory) {
  const setup = () => {
    const clock = new FakeClock();
    const { a, b } = factory().pair();
    return { clock, a: new CircuitBreaker(a, clock, policy), b: new CircuitBreaker(b, clock, policy) };
  };

  it('starts closed and lets calls through', async () => {
    const { a } = setup();
    expect(await a.acquire('p@default')).toEqual({ allowed: true, probe: false });
    expect((await a.views(['p@default']))[0]).toMatchObject({
      circuit: 'closed',
      coolingDown: false,
      failureCount: 0,
    });
  });

  it('opens on a failure for the cooldown, with reason, times and counts', async () => {
    const { a, clock } = setup();
    await a.failure('p@default', unavailable);
    expect(await a.acquire('p@default')).toEqual({ allowed: false, probe: false });
    const [view] = await a.views(['p@default']);
    expect(view).toMatchObject({
      circuit: 'open',
      coolingDown: true,
      reason: 'unavailable',
      failureCount: 1,
      lastFailureCode: 'AI_PROVIDER_UNAVAILABLE',
    });
    expect(Date.parse(view!.cooldownUntil!)).toBe(clock.now() + 30_000);
    expect(Date.parse(view!.openedAt!)).toBe(clock.now());
  });

  it('does not open on a bad request; uses Retry-After for 429 and a long cooldown for auth errors', async () => {
    const { a, clock } = setup();
    await a.failure('bad@default', { code: 'AI_PROVIDER_BAD_REQUEST', retryAfterMs: null, httpStatus: 400 });
    expect((await a.acquire('bad@default')).allowed).toBe(true);
    await a.failure('rl@default', { code: 'AI_PROVIDER_RATE_LIMITED', retryAfterMs: 7000, httpStatus: 429 });
    await a.failure('auth@default', { code: 'AI_PROVIDER_AUTH_ERROR', retryAfterMs: null, httpStatus: 401 });
    const [rl, auth] = await a.views(['rl@default', 'auth@default']);
    expect(Date.parse(rl!.cooldownUntil!) - clock.now()).toBe(7000);
    expect(Date.parse(auth!.cooldownUntil!) - clock.now()).toBe(300_000);
    expect(auth?.reason).toBe('auth_error');
  });

  it('after the cooldown admits exactly one probe among 20 concurrent callers on two replicas', async () => {
    const { a, b, clock } = setup();
    await a.failure('p@default', unavailable);
    clock.advance(30_000);
    expect((await b.views(['p@default']))[0]).toMatchObject({ circuit: 'half_open', coolingDown: false });
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire('p@default')),
    );
    expect(decisions.filter((d) => d.allowed)).toEqual([
      { allowed: true, probe: true, leaseUntil: clock.now() + 24_000 },
    ]);
    expect((await a.views(['p@default']))[0]).toMatchObject({ circuit: 'half_open', coolingDown: true });
  });

  it('a probe hands its lease back (caller cancelled): the next caller probes at once; a stale hand-back does nothing', async () => {
    const { a, b, clock } = setup();
    await a.failure('p@default', unavailable);
    clock.advance(30_000);
    const first = await a.acquire('p@default');
    expect(first).toMatchObject({ allowed: true, probe: true });
    expect(await b.acquire('p@default')).toEqual({ allowed: false, probe: false });
    await a.release('p@default', first);
    clock.advance(1);
    const second = await b.acquire('p@default');
    expect(second).toEqual({ allowed: true, probe: true, leaseUntil: clock.now() + 24_000 });
    // The first probe's lease is gone: handing it back again must not free the second probe's.
    await a.release('p@default', first);
    expect(await a.acquire('p@default')).toEqual({ allowed: false, probe: false });
    // A decision that was not a probe holds nothing to hand back.
    await a.release('p@default', { allowed: false, probe: false });
    expect(await b.acquire('p@default')).toEqual({ allowed: false, probe: false });
    expect((await a.views(['p@default']))[0]).toMatchObject({ circuit: 'half_open', failureCount: 1 });
  });

  it('closes when the probe succeeds; reopens with doubled cooldown when it fails', async () => {
    const { a, b, clock } = setup();
    await a.failure('ok@default', unavailable);
    await a.failure('ko@default', unavailable);
    clock.advance(30_000);
    expect((await b.acquire('ok@default')).probe).toBe(true);
    await b.success('ok@default');
    expect((await a.views(['ok@default']))[0]).toMatchObject({
      circuit: 'closed',
      coolingDown: false,
      failureCount: 0,
      lastFailureCode: 'AI_PROVIDER_UNAVAILABLE',
    });
    expect((await a.acquire('ko@default')).probe).toBe(true);
    await a.failure('ko@default', unavailable);
    const [view] = await b.views(['ko@default']);
    expect(Date.parse(view!.cooldownUntil!) - clock.now()).toBe(60_000);
    expect(view?.failureCount).toBe(2);
  });

  it('frees the probe lease when a probe never reports back', async () => {
    const { a, clock } = setup();
    await a.failure('p@default', unavailable);
    clock.advance(30_000);
    expect((await a.acquire('p@default')).probe).toBe(true);
    expect((await a.acquire('p@default')).allowed).toBe(false);
    clock.advance(24_000);
    expect(await a.acquire('p@default')).toEqual({
      allowed: true,
      probe: true,
      leaseUntil: clock.now() + 24_000,
    });
  });

  it('a read-only gate (dry-run) reads circuits but never changes them', async () => {
    const { a, clock } = setup();
    const gate = a.readOnly();
    await gate.failure('p@default', unavailable);
    expect((await a.views(['p@default']))[0]?.circuit).toBe('closed');
    await a.failure('p@default', unavailable);
    expect((await gate.acquire('p@default')).allowed).toBe(false);
    clock.advance(30_000);
    expect(await gate.acquire('p@default')).toEqual({ allowed: true, probe: false });
    await gate.success('p@default');
    expect((await a.views(['p@default']))[0]).toMatchObject({ circuit: 'half_open', failureCount: 1 });
  });
}

describe('circuit store contract: memory', () => {
  circuitContract(() => ({
    name: 'memory',
    pair: () => {
      const store = new MemoryCircuitStore();
      return { a: store, b: store };
    },
  }));
});

// Runs whenever REDIS_URL is set. An unreachable Redis fails these tests; it never skips them silently.
describe.runIf(Boolean(process.env.REDIS_URL))(
  'circuit store contract: redis (two connections = two replicas)',
  () => {
    let first: Redis;
    let second: Redis;
    const opened: RedisCircuitStore[] = [];
    beforeAll(async () => {
      const options = { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true };
      first = new Redis(process.env.REDIS_URL!, options);
      second = new Redis(process.env.REDIS_URL!, options);
      await first.connect();
      await second.connect();
      await first.ping();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    afterAll(async () => {
      await first?.quit();
      await second?.quit();
    });
    // Each replica mirrors the circuits from the change channel. The contract is read-your-writes across replicas,
    // so after every write both mirrors are synced before the next step (in production the lag is the pub/sub
    // delivery time); the mirror tests below cover the unsynced behaviour.
    circuitContract(() => ({
      name: 'redis',
      pair: () => {
        const prefix = `agw:test:${randomBytes(6).toString('hex')}:`;
        const stores = [new RedisCircuitStore(first, { prefix }), new RedisCircuitStore(second, { prefix })];
        opened.push(...stores);
        const synced = (store: RedisCircuitStore): CircuitStore => ({
          kind: store.kind,
          getMany: (keys) => store.getMany(keys),
          isQuiet: (key) => store.isQuiet(key),
          update: async (key, now, fn) => {
            const result = await store.update(key, now, fn);
            await Promise.all(stores.map((each) => each.sync()));
            return result;
          },
          clear: () => store.clear(),
        });
        return { a: synced(stores[0]!), b: synced(stores[1]!) };
      },
    }));
  },
);
