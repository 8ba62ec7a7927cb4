import type { Redis } from 'ioredis';
import { type CircuitState, type CircuitStore, type CircuitUpdate, quiet } from './circuit-store.js';

// Compare-and-set: write only if the stored value is still the one the update function saw, and announce the write
// in the same script, so every replica's mirror hears the changes of one circuit in the order they were made.
const casScript = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

const retainMs = 24 * 60 * 60 * 1000;
const maxConflicts = 50;

type CasRedis = Redis & {
  agwCircuitCas(
    key: string,
    expected: string,
    next: string,
    ttlMs: number,
    channel: string,
    message: string,
  ): Promise<number>;
};

/** What the change channel carries: a write or delete of one circuit, a clear of all, or a sync marker. */
type Change = ['set', string, CircuitState, number] | ['del', string] | ['clear'] | ['sync', string];

interface MirrorEntry {
  state: CircuitState;
  /** When Redis drops the key (its PX), on this replica's wall clock. */
  expiresAt: number;
}

export interface RedisCircuitStoreOptions {
  /** Key prefix; the change channel is `<prefix>changes`. */
  prefix?: string;
  /**
   * Keep a local mirror of the stored circuits, fed by the change channel on a second connection, so a call on a
   * closed circuit needs no Redis round trip (default true).
   */
  mirror?: boolean;
  /** CLIENT SETNAME of the mirror's subscriber connection (default `agw-circuit-mirror`), to spot it in CLIENT LIST. */
  mirrorConnectionName?: string;
  /** How often the mirror PINGs its connection to detect a silently dropped one (default 5000 ms). */
  heartbeatMs?: number;
  /** How long a heartbeat PING may take before the connection counts as dropped (default min(heartbeatMs, 2000)). */
  heartbeatTimeoutMs?: number;
}

/**
 * Circuits in Redis so every replica sees the same state. Reads are one GET/MGET; a change is an optimistic
 * compare-and-set in a Lua script, retried on conflict, so concurrent replicas cannot both take the probe.
 *
 * Every change is also published, and each replica mirrors the stored circuits from that channel: while its
 * subscription is up and the mirror loaded, a circuit that is closed (or has no state) is known to be so without
 * asking Redis, so the hot path (acquire + success on a healthy provider) costs no round trip. Anything else, and
 * everything while the subscription is down or reloading, goes to Redis as before. A replica hears another's change
 * within the pub/sub delivery time; until then it may send a call to a provider whose circuit just opened
 * elsewhere, as it could have with a read just before the write. Probes stay exclusive: a circuit that is not
 * closed is always decided by the compare-and-set.
 */
export class RedisCircuitStore implements CircuitStore {
  readonly kind = 'redis' as const;
  private readonly redis: CasRedis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly subscriber: Redis | undefined;
  private readonly mirrorStates = new Map<string, MirrorEntry>();
  /** True while the mirror holds everything stored (subscribed, loaded, connection up). */
  private live = false;
  /** Bumped on every (re)load and disconnect; a load that finds it changed is stale and dropped. */
  private generation = 0;
  /**
   * Non-null exactly while a load is in flight: the keys changed by a message meanwhile, which the load's older read
   * must not overwrite.
   */
  private touchedDuringLoad: Set<string> | null = null;
  private readonly syncWaiters = new Map<string, () => void>();
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(redis: Redis, options: RedisCircuitStoreOptions = {}) {
    if (!('agwCircuitCas' in redis))
      redis.defineCommand('agwCircuitCas', { numberOfKeys: 1, lua: casScript });
    this.redis = redis as CasRedis;
    this.prefix = options.prefix ?? 'agw:circuit:';
    this.channel = `${this.prefix}changes`;
    if (options.mirror === false) return;
    // Subscriber mode needs a connection of its own; commands queue until it is up (the shared one fails fast).
    const subscriber = redis.duplicate({
      lazyConnect: true,
      enableOfflineQueue: true,
      keepAlive: 10_000,
      connectionName: options.mirrorConnectionName ?? 'agw-circuit-mirror',
    });
    this.subscriber = subscriber;
    // The shared connection logs Redis problems; this one only follows them.
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.apply(message);
    });
    subscriber.on('ready', () => void this.reload());
    subscriber.on('close', () => this.markStale());
    // A load that failed because the command connection was not up yet is retried once it is.
    redis.on('ready', () => {
      if (!this.live && this.touchedDuringLoad === null && subscriber.status === 'ready') void this.reload();
    });
    subscriber.connect().catch(() => undefined);
    // The channel is silent while providers are healthy, so a connection dropped without a FIN (a NAT or load
    // balancer timing it out) would go unnoticed and the mirror would keep answering from stale state: PING the
    // subscriber connection itself; no answer within the command timeout drops the mirror and reconnects.
    const heartbeatMs = options.heartbeatMs ?? 5000;
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? Math.min(heartbeatMs, 2000);
    let waiting = false;
    const deaf = () => {
      if (this.closed || !this.live) return;
      this.markStale();
      subscriber.disconnect(true);
    };
    this.heartbeat = setInterval(() => {
      if (!this.live || waiting) return;
      waiting = true;
      const timer = setTimeout(deaf, heartbeatTimeoutMs);
      timer.unref();
      subscriber.ping().then(
        () => {
          waiting = false;
          clearTimeout(timer);
        },
        () => {
          waiting = false;
          clearTimeout(timer);
          deaf();
        },
      );
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** True when the circuit is known closed without asking Redis (mirror live and the circuit closed or absent). */
  isQuiet(key: string): boolean {
    if (!this.live) return false;
    const entry = this.mirrorStates.get(key);
    if (entry === undefined) return true;
    if (entry.expiresAt <= Date.now()) {
      this.mirrorStates.delete(key);
      return true;
    }
    return quiet(entry.state);
  }

  mirrorState(): 'live' | 'loading' | 'off' {
    if (!this.subscriber) return 'off';
    return this.live ? 'live' : 'loading';
  }

  async getMany(keys: readonly string[]): Promise<(CircuitState | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = await this.redis.mget(...keys.map((key) => this.prefix + key));
    return raw.map(decode);
  }

  async update<T>(key: string, now: number, fn: (current: CircuitState | undefined) => CircuitUpdate<T>) {
    const redisKey = this.prefix + key;
    for (let attempt = 0; attempt < maxConflicts; attempt++) {
      const raw = await this.redis.get(redisKey);
      const { next, result } = fn(decode(raw));
      if (next === 'keep') return result;
      const encoded = next === null ? '' : JSON.stringify(next);
      const ttl = Math.ceil(next === null ? 0 : Math.max(0, (next.cooldownUntil ?? now) - now) + retainMs);
      const change: Change = next === null ? ['del', key] : ['set', key, next, ttl];
      const written = await this.redis.agwCircuitCas(
        redisKey,
        raw ?? '',
        encoded,
        ttl,
        this.channel,
        JSON.stringify(change),
      );
      if (written === 1) return result;
    }
    throw new Error(`circuit ${key}: too many concurrent updates`);
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keyPattern(), 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.publish(this.channel, JSON.stringify(['clear'] satisfies Change));
  }

  /**
   * Resolves once this replica's mirror has heard every change published before the call (a marker sent on the
   * same channel comes back after them), or at once when the mirror is not answering (every decision then reads
   * Redis). For tests and tools that need read-your-writes across replicas.
   */
  async sync(timeoutMs = 2000): Promise<void> {
    if (!this.live) return;
    const nonce = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const heard = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.syncWaiters.delete(nonce);
        reject(new Error('circuit mirror did not hear its sync marker in time'));
      }, timeoutMs);
      this.syncWaiters.set(nonce, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await this.redis.publish(this.channel, JSON.stringify(['sync', nonce] satisfies Change));
    } catch (error) {
      this.syncWaiters.get(nonce)?.();
      this.syncWaiters.delete(nonce);
      throw error;
    }
    await heard;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.markStale();
    this.subscriber?.disconnect();
  }

  private keyPattern(): string {
    // The prefix is ours, but escape glob characters anyway so a prefix never matches foreign keys.
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  }

  private markStale(): void {
    // A mirror that stops answering has nothing left to sync: release the waiters.
    for (const release of this.syncWaiters.values()) release();
    this.syncWaiters.clear();
    this.live = false;
    this.generation++;
    this.touchedDuringLoad = null;
    this.mirrorStates.clear();
  }

  /** (Re)subscribes and loads every stored circuit; the mirror answers only once both are done. */
  private async reload(): Promise<void> {
    if (this.closed || !this.subscriber) return;
    this.markStale();
    const generation = this.generation;
    const touched = new Set<string>();
    this.touchedDuringLoad = touched;
    try {
      await this.subscriber.subscribe(this.channel);
      const loaded = new Map<string, MirrorEntry>();
      let cursor = '0';
      do {
        const [next, redisKeys] = await this.redis.scan(cursor, 'MATCH', this.keyPattern(), 'COUNT', 500);
        cursor = next;
        if (redisKeys.length === 0) continue;
        const pipeline = this.redis.pipeline();
        for (const redisKey of redisKeys) pipeline.get(redisKey).pttl(redisKey);
        const replies = (await pipeline.exec()) ?? [];
        const now = Date.now();
        redisKeys.forEach((redisKey, i) => {
          const [getError, raw] = replies[2 * i] ?? [];
          const [ttlError, ttl] = replies[2 * i + 1] ?? [];
          if (getError || ttlError) throw getError ?? ttlError;
          const state = decode(raw as string | null);
          if (!state) return;
          const ms = Number(ttl);
          loaded.set(redisKey.slice(this.prefix.length), {
            state,
            expiresAt: ms >= 0 ? now + ms : Number.POSITIVE_INFINITY,
          });
        });
      } while (cursor !== '0');
      if (generation !== this.generation) return;
      // Messages heard during the load are newer than (or equal to) what the load read for their keys.
      for (const [key, entry] of loaded) if (!touched.has(key)) this.mirrorStates.set(key, entry);
      this.touchedDuringLoad = null;
      this.live = true;
    } catch {
      // Redis failed mid-load: stay on the Redis path and try again shortly (or on the next 'ready' of either
      // connection) while this load is still the current one.
      if (generation !== this.generation) return;
      this.touchedDuringLoad = null;
      const subscriber = this.subscriber;
      setTimeout(() => {
        if (!this.closed && generation === this.generation && subscriber.status === 'ready')
          void this.reload();
      }, 1000).unref();
    }
  }

  private apply(message: string): void {
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    switch (change[0]) {
      case 'set':
        this.touchedDuringLoad?.add(change[1]);
        this.mirrorStates.set(change[1], { state: change[2], expiresAt: Date.now() + change[3] });
        break;
      case 'del':
        this.touchedDuringLoad?.add(change[1]);
        this.mirrorStates.delete(change[1]);
        break;
      case 'clear':
        // The deletes and this message are not atomic: a circuit written between them would be dropped here while
        // Redis still holds it. Load everything again instead of trusting the clear.
        void this.reload();
        break;
      case 'sync':
        this.syncWaiters.get(change[1])?.();
        this.syncWaiters.delete(change[1]);
        break;
    }
  }
}

function decode(raw: string | null | undefined): CircuitState | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as CircuitState;
  } catch {
    return undefined;
  }
}
