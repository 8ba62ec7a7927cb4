import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/runtime/circuit-breaker.js';
import { RedisCircuitStore } from '../../src/runtime/redis-circuit-store.js';
import { until } from '../helpers/wait.js';
import { FakeClock } from './fake-clock.js';

const unavailable = { code: 'AI_PROVIDER_UNAVAILABLE' as const, retryAfterMs: null, httpStatus: 503 };
const policy = { cooldownMs: 30_000, probeLeaseMs: 24_000 };

// Runs whenever REDIS_URL is set (CI's real-PostgreSQL pass sets it); an unreachable Redis fails, never skips.
describe.runIf(Boolean(process.env.REDIS_URL))('circuit mirror (Redis store, two replicas)', () => {
  const connections: Redis[] = [];
  const stores: RedisCircuitStore[] = [];
  const connect = async () => {
    const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
    connections.push(redis);
    return redis;
  };
  let admin: Redis;
  beforeAll(async () => {
    admin = await connect();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await Promise.all(connections.map((redis) => redis.quit().catch(() => undefined)));
  });

  /** Two replicas on one prefix, each with its own connections, mirrors loaded. */
  const replicas = async (prefix = `agw:test:${randomBytes(6).toString('hex')}:`) => {
    const clock = new FakeClock();
    const make = async (name: string) => {
      const redis = await connect();
      const mirrorConnectionName = `agw-test-mirror-${randomBytes(4).toString('hex')}`;
      const store = new RedisCircuitStore(redis, { prefix, mirrorConnectionName });
      stores.push(store);
      await until(() => store.mirrorState() === 'live', `${name}'s mirror to load`);
      return { redis, store, mirrorConnectionName, breaker: new CircuitBreaker(store, clock, policy) };
    };
    return { clock, prefix, a: await make('a'), b: await make('b') };
  };

  /**
   * The last command Redis executed for a connection after `work` ran (CLIENT LIST's cmd, read server-side): a
   * marker is sent first, so `echo` means `work` sent nothing on that connection.
   */
  const lastCommandAfter = async (redis: Redis, work: () => Promise<void>) => {
    const id = String(await redis.client('ID'));
    await redis.echo('agw-marker');
    await work();
    const line = String(await admin.client('LIST', 'ID', id));
    return /\bcmd=(\S+)/.exec(line)?.[1];
  };

  it('a closed circuit costs no Redis command; one opened on another replica is heard and decided in Redis', async () => {
    const { a, b } = await replicas();
    const quietLast = await lastCommandAfter(a.redis, async () => {
      for (let i = 0; i < 200; i++) {
        expect(await a.breaker.acquire('p@default')).toEqual({ allowed: true, probe: false });
        await a.breaker.success('p@default');
      }
    });
    expect(quietLast).toBe('echo');

    await b.breaker.failure('p@default', unavailable);
    await a.store.sync();
    expect(a.store.isQuiet('p@default')).toBe(false);
    const openLast = await lastCommandAfter(a.redis, async () => {
      expect(await a.breaker.acquire('p@default')).toEqual({ allowed: false, probe: false });
    });
    expect(openLast).toBe('get');
    // Other circuits stay on the fast path.
    expect(a.store.isQuiet('q@default')).toBe(true);
  });

  it('a replica that has not yet heard a change still keeps the half-open probe exclusive', async () => {
    const { a, b, clock } = await replicas();
    await a.breaker.failure('p@default', unavailable);
    await b.store.sync();
    clock.advance(30_000);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).breaker.acquire('p@default')),
    );
    expect(decisions.filter((d) => d.allowed)).toEqual([
      { allowed: true, probe: true, leaseUntil: expect.any(Number) },
    ]);
    // The probe succeeds on one replica; the other hears the close and goes back to the fast path.
    const prober = decisions.findIndex((d) => d.allowed) % 2 ? a : b;
    const other = prober === a ? b : a;
    await prober.breaker.success('p@default');
    await other.store.sync();
    expect(other.store.isQuiet('p@default')).toBe(true);
  });

  it('while its subscription is down a replica asks Redis, and on reconnect it reloads what changed meanwhile', async () => {
    const { a, b } = await replicas();
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => l.includes(`name=${a.mirrorConnectionName} `));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    expect(id, 'the mirror connection is in CLIENT LIST').toBeDefined();
    await admin.client('KILL', 'ID', id!);
    await until(() => a.store.mirrorState() !== 'live', 'the mirror to notice the drop');
    expect(a.store.mirrorState()).toBe('loading');
    await b.breaker.failure('p@default', unavailable);
    // No mirror: the decision comes from Redis, so the change is seen at once.
    expect(a.store.isQuiet('p@default')).toBe(false);
    expect(await a.breaker.acquire('p@default')).toEqual({ allowed: false, probe: false });
    await until(() => a.store.mirrorState() === 'live', 'the mirror to reconnect and reload');
    expect(a.store.mirrorState()).toBe('live');
    // Loaded from Redis, not from a message (it was published while the mirror was away).
    expect(a.store.isQuiet('p@default')).toBe(false);
    expect(a.store.isQuiet('other@default')).toBe(true);
  });

  it('a new replica loads the circuits already stored; a clear empties every mirror', async () => {
    const { a, prefix } = await replicas();
    await a.breaker.failure('p@default', unavailable);
    const late = new RedisCircuitStore(await connect(), { prefix });
    stores.push(late);
    await until(() => late.mirrorState() === 'live', 'the late mirror to load');
    expect(late.isQuiet('p@default')).toBe(false);
    await a.store.clear();
    // A clear makes every mirror load again (the deletes and the announcement are not atomic).
    await late.sync();
    await until(() => late.mirrorState() === 'live', 'the late mirror to reload after the clear');
    expect(late.isQuiet('p@default')).toBe(true);
    expect(await a.breaker.acquire('p@default')).toEqual({ allowed: true, probe: false });
  });

  it('a heartbeat keeps a healthy subscription; one that stops answering is dropped, reconnected and reloaded', async () => {
    const redis = await connect();
    const prefix = `agw:test:${randomBytes(6).toString('hex')}:`;
    const mirrorConnectionName = `agw-test-mirror-${randomBytes(4).toString('hex')}`;
    // Frequent PINGs, each allowed a second: a loaded machine's slow PONG must not count as a dropped connection.
    const store = new RedisCircuitStore(redis, {
      prefix,
      mirrorConnectionName,
      heartbeatMs: 50,
      heartbeatTimeoutMs: 1000,
    });
    stores.push(store);
    await until(() => store.mirrorState() === 'live', 'the mirror to load');
    const mirrorId = async () => {
      const list = String(await admin.client('LIST'));
      return /\bid=(\d+)/.exec(
        list.split('\n').find((l) => l.includes(`name=${mirrorConnectionName} `)) ?? '',
      )?.[1];
    };
    const first = await mirrorId();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(store.mirrorState()).toBe('live');
    expect(await mirrorId()).toBe(first);

    // The connection goes silent without closing (as behind a NAT that dropped it): nothing it receives is read.
    const subscriber = (store as unknown as { subscriber: Redis }).subscriber;
    subscriber.stream.pause();
    await until(() => store.mirrorState() !== 'live', 'the heartbeat to drop the silent mirror', 10_000);
    // Meanwhile another replica opens a circuit; the reconnected mirror loads it.
    const other = new CircuitBreaker(
      new RedisCircuitStore(await connect(), { prefix, mirror: false }),
      new FakeClock(),
      policy,
    );
    await other.failure('p@default', unavailable);
    await until(() => store.mirrorState() === 'live', 'the mirror to reconnect and reload', 10_000);
    expect(await mirrorId()).not.toBe(first);
    expect(store.isQuiet('p@default')).toBe(false);
  });

  it('without the mirror every decision goes to Redis', async () => {
    const redis = await connect();
    const store = new RedisCircuitStore(redis, {
      prefix: `agw:test:${randomBytes(6).toString('hex')}:`,
      mirror: false,
    });
    stores.push(store);
    expect(store.mirrorState()).toBe('off');
    const breaker = new CircuitBreaker(store, new FakeClock(), policy);
    const last = await lastCommandAfter(redis, async () => {
      await breaker.acquire('p@default');
      await breaker.success('p@default');
    });
    expect(last).toBe('get');
  });
});
