import type { Redis } from 'ioredis';
import type { SharedStoreOptions } from './connector-rate-limiter.js';

/**
 * The ids a signature was first presented with. The ingest signature covers `<timestamp>.<body>`, not the
 * `x-gateway-connector-id` / `x-idempotency-key` fallback headers, so a captured request whose body leaves its ids
 * to those headers could be re-sent inside the skew window under a new event id (or another connector sharing the
 * global secret). Binding each such signature to its first ids closes that: the same signed bytes with the same
 * ids are a retry (deduplicated as usual), with other ids a forgery.
 */
export interface SignatureBindings {
  /** Binds `signature` to `ids` for `ttlSec`; returns the ids it was already bound to, or null when now bound. */
  bind(signature: string, ids: string, ttlSec: number): Promise<string | null>;
}

/** One process's bindings: bounded, expired entries dropped as new ones arrive. */
export class MemorySignatureBindings implements SignatureBindings {
  private readonly entries = new Map<string, { ids: string; expiresAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  async bind(signature: string, ids: string, ttlSec: number): Promise<string | null> {
    const nowMs = this.now();
    const existing = this.entries.get(signature);
    if (existing && existing.expiresAt > nowMs) return existing.ids === ids ? null : existing.ids;
    // Insertion order is expiry order (one ttl per process): drop from the front until a live entry or room.
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > nowMs && this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
    this.entries.delete(signature);
    this.entries.set(signature, { ids, expiresAt: nowMs + ttlSec * 1000 });
    return null;
  }
}

/**
 * Shared by every replica (`SET … NX GET`: one round trip). If Redis does not answer, bindings fall back to this
 * process (a Redis outage must not stop ingest), as the rate limiter does.
 */
export class RedisSignatureBindings implements SignatureBindings {
  private readonly fallback: MemorySignatureBindings;

  constructor(
    private readonly redis: Redis,
    private readonly options: SharedStoreOptions = {},
  ) {
    this.fallback = new MemorySignatureBindings(options.now);
  }

  async bind(signature: string, ids: string, ttlSec: number): Promise<string | null> {
    const key = `${this.options.keyPrefix ?? 'agw:ingest:sig'}:${signature}`;
    try {
      const earlier = await this.redis.set(key, ids, 'EX', ttlSec, 'NX', 'GET');
      return earlier === null || earlier === ids ? null : earlier;
    } catch (error) {
      this.options.onError?.(error);
      return this.fallback.bind(signature, ids, ttlSec);
    }
  }
}
