import type { Redis } from 'ioredis';
import type { CircuitState, CircuitStore, CircuitUpdate } from './circuit-store.js';

// Compare-and-set: write only if the stored value is still the one the update function saw.
const casScript = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`;

const retainMs = 24 * 60 * 60 * 1000;
const maxConflicts = 50;

type CasRedis = Redis & {
  agwCircuitCas(key: string, expected: string, next: string, ttlMs: number): Promise<number>;
};

/**
 * Circuits in Redis so every replica sees the same state. Reads are one GET/MGET; a change is an optimistic
 * compare-and-set in a Lua script, retried on conflict, so concurrent replicas cannot both take the probe.
 */
export class RedisCircuitStore implements CircuitStore {
  readonly kind = 'redis' as const;
  private readonly redis: CasRedis;

  constructor(
    redis: Redis,
    private readonly prefix = 'agw:circuit:',
  ) {
    if (!('agwCircuitCas' in redis))
      redis.defineCommand('agwCircuitCas', { numberOfKeys: 1, lua: casScript });
    this.redis = redis as CasRedis;
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
      const ttl = next === null ? 0 : Math.max(0, (next.cooldownUntil ?? now) - now) + retainMs;
      const written = await this.redis.agwCircuitCas(redisKey, raw ?? '', encoded, Math.ceil(ttl));
      if (written === 1) return result;
    }
    throw new Error(`circuit ${key}: too many concurrent updates`);
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
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
