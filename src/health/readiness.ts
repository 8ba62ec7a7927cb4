import { type Database, withTimeout } from '../db/database.js';
import { migrationStatus } from '../db/migrate.js';

export interface ReadinessReport {
  status: 'ok' | 'degraded';
  db: 'ok' | 'down';
  redis: 'ok' | 'down' | 'disabled';
  migrations: 'ok' | 'pending' | 'unknown';
}

export interface RedisPinger {
  ping(timeoutMs: number): Promise<void>;
}

/**
 * `/ready`: database, Redis (when configured) and migrations, each bounded by `timeoutMs`. The result is cached for
 * `cacheMs` and concurrent callers share one check, so probes cannot overload the database. Only the database and
 * migrations make it 503; `redis: "down"` is reported but keeps the replica in service (local state stands in).
 */
export class Readiness {
  private cached: { at: number; report: ReadinessReport } | undefined;
  private inFlight: Promise<ReadinessReport> | undefined;

  constructor(
    private readonly database: Database,
    private readonly redis: RedisPinger | undefined,
    private readonly options: { timeoutMs: number; cacheMs: number; now?: () => number } = {
      timeoutMs: 1000,
      cacheMs: 1000,
    },
  ) {}

  async check(): Promise<ReadinessReport> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.report;
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    const report = await this.inFlight;
    this.cached = { at: (this.options.now ?? Date.now)(), report };
    return report;
  }

  private async run(): Promise<ReadinessReport> {
    const { timeoutMs } = this.options;
    const [db, migrations, redis] = await Promise.all([
      withTimeout(this.database.ping(timeoutMs), timeoutMs, 'database').then(
        () => 'ok' as const,
        () => 'down' as const,
      ),
      withTimeout(migrationStatus(this.database), timeoutMs, 'migration status').then(
        (s) => (s.pending === 0 ? ('ok' as const) : ('pending' as const)),
        () => 'unknown' as const,
      ),
      this.redis
        ? withTimeout(this.redis.ping(timeoutMs), timeoutMs, 'Redis').then(
            () => 'ok' as const,
            () => 'down' as const,
          )
        : Promise.resolve('disabled' as const),
    ]);
    // Redis down does not take the replica out of service: circuits and rate limits fall back to local state.
    const ok = db === 'ok' && migrations === 'ok';
    return { status: ok ? 'ok' : 'degraded', db, redis, migrations };
  }
}
