import type { Database } from '../db/database.js';
import { foldTelemetry } from './telemetry-store.js';

/**
 * Folds the telemetry roll-up deltas written by the database triggers into the keyed roll-up rows every few
 * seconds. Snapshots are exact whether or not a fold has run (they read roll-ups plus pending deltas); folding only
 * keeps the delta tables short so a snapshot stays cheap. Every replica runs one; the database lets one fold at a
 * time and the others skip that tick.
 */
export class TelemetryRollupFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: { database: Database; intervalMs?: number; onError?: (error: unknown) => void },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.fold(), this.deps.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** One fold now (a tick already in flight is awaited instead of starting a second). */
  async fold(): Promise<void> {
    this.running ??= foldTelemetry(this.deps.database.orm)
      .then(() => undefined)
      .catch((error) => this.deps.onError?.(error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
