import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the current window ends (for Retry-After). */
  retryAfterSec: number;
}

/** A store shared by replicas through Redis, falling back to this process's own state when Redis does not answer. */
export interface SharedStoreOptions {
  keyPrefix?: string;
  now?: () => number;
  /** Told of every Redis failure that made the store use its local state. */
  onError?: (error: unknown) => void;
}

/** Fixed-window counter per connector: in-process, or in Redis so every replica shares one budget. */
export interface ConnectorRateLimiter {
  take(connectorId: string, max: number, windowSec: number): Promise<RateDecision>;
}

export class MemoryRateLimiter implements ConnectorRateLimiter {
  private readonly windows = new Map<string, { window: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async take(connectorId: string, max: number, windowSec: number): Promise<RateDecision> {
    const nowMs = this.now();
    const window = Math.floor(nowMs / (windowSec * 1000));
    const retryAfterSec = Math.max(1, Math.ceil(((window + 1) * windowSec * 1000 - nowMs) / 1000));
    let entry = this.windows.get(connectorId);
    if (!entry || entry.window !== window) {
      if (this.windows.size > 10_000) this.windows.clear(); // bounded: old windows are worthless anyway
      entry = { window, count: 0 };
      this.windows.set(connectorId, entry);
    }
    entry.count += 1;
    return { allowed: entry.count <= max, retryAfterSec };
  }
}

/** INCR and set the expiry on the first hit, atomically; returns the count and the key's remaining ms. */
const takeScript = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { n, redis.call('PTTL', KEYS[1]) }`;

/**
 * Shared across replicas. If Redis does not answer, the limiter fails open to an in-process window (a Redis outage
 * must not stop ingest) and reports the error once per `onError` call.
 */
export class RedisRateLimiter implements ConnectorRateLimiter {
  private readonly fallback: MemoryRateLimiter;

  constructor(
    private readonly redis: Redis,
    private readonly options: SharedStoreOptions = {},
  ) {
    this.fallback = new MemoryRateLimiter(options.now);
  }

  async take(connectorId: string, max: number, windowSec: number): Promise<RateDecision> {
    const nowMs = (this.options.now ?? Date.now)();
    const window = Math.floor(nowMs / (windowSec * 1000));
    const key = `${this.options.keyPrefix ?? 'agw:ingest:rate'}:${connectorId}:${windowSec}:${window}`;
    try {
      const [count, ttl] = (await this.redis.eval(takeScript, 1, key, String(windowSec * 1000 + 1000))) as [
        number,
        number,
      ];
      const untilWindowEnd = (window + 1) * windowSec * 1000 - nowMs;
      const waitMs = ttl > 0 ? Math.min(ttl, untilWindowEnd) : untilWindowEnd;
      return { allowed: count <= max, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (error) {
      this.options.onError?.(error);
      return this.fallback.take(connectorId, max, windowSec);
    }
  }
}
