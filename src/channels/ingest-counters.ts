import type { Database } from '../db/database.js';
import { addIngestCounts, type CounterIncrement } from './ingest-store.js';

export type IngestOutcome = 'accepted' | 'replayed' | 'rejected';

/** Connector label for requests whose connector is not configured anywhere (keeps the key set bounded). */
export const UNKNOWN_CONNECTOR = '_unknown';

/** Most distinct keys held between flushes; past it increments fold into the `_overflow` key. */
const MAX_PENDING_KEYS = 10_000;

/**
 * Counts of accepted / replayed / rejected ingest requests per (hour, connector, channel, code), kept in memory and
 * flushed to the `ingest_counters` rollup every few seconds in one statement. A request never waits for a counter
 * write, and a flood of unauthenticated requests costs one upsert per flush, not one row per request. A crash
 * loses at most one flush interval of counts (the dedup table remains the exact record of accepted events).
 */
export class IngestCounters {
  private pending = new Map<string, CounterIncrement>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      flushIntervalMs?: number;
      now?: () => number;
      onError?: (error: unknown) => void;
      /** Told of every counted request (the Prometheus counter). */
      onRecord?: (connectorId: string, outcome: IngestOutcome, code: string) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.flushIntervalMs ?? 2000);
    this.timer.unref();
  }

  record(connectorId: string, channel: string | null, outcome: IngestOutcome, code: string): void {
    this.deps.onRecord?.(connectorId, outcome, code);
    const hourMs = Math.floor((this.deps.now ?? Date.now)() / 3_600_000) * 3_600_000;
    const hour = new Date(hourMs).toISOString();
    let key = `${hour}|${connectorId}|${channel ?? ''}|${outcome}|${code}`;
    let row = this.pending.get(key);
    if (!row && this.pending.size >= MAX_PENDING_KEYS) {
      key = `${hour}|_overflow||${outcome}|${code}`;
      row = this.pending.get(key);
      connectorId = '_overflow';
      channel = '';
    }
    if (row) row.count += 1;
    else this.pending.set(key, { hour, connectorId, channel: channel ?? '', outcome, code, count: 1 });
  }

  /** Writes what has accumulated; increments that fail to write are put back for the next flush. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = addIngestCounts(this.deps.database.orm, batch)
      .catch((error) => {
        for (const row of batch) {
          const key = `${row.hour}|${row.connectorId}|${row.channel}|${row.outcome}|${row.code}`;
          const existing = this.pending.get(key);
          if (existing) existing.count += row.count;
          else if (this.pending.size < MAX_PENDING_KEYS) this.pending.set(key, row);
        }
        this.deps.onError?.(error);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
