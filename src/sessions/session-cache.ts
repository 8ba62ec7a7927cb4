import type { SessionRecord } from './session-model.js';

interface Entry {
  session: SessionRecord;
  providers: Set<string>;
}

/**
 * This replica's read-side view of sessions it touched recently (`source=memory`), bounded LRU. It is never the
 * source of truth: PostgreSQL is written first and the cache is refreshed from what was committed.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly capacity: number) {}

  remember(session: SessionRecord, provider?: string | null): void {
    if (this.capacity === 0) return;
    const entry = this.entries.get(session.id);
    this.entries.delete(session.id);
    const providers = entry?.providers ?? new Set<string>();
    if (provider && providers.size < 64) providers.add(provider);
    this.entries.set(session.id, { session, providers });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(id: string): SessionRecord | undefined {
    return this.entries.get(id)?.session;
  }

  /** Cached sessions, newest `updatedAt` first, with optional provider filter. */
  list(provider?: string): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const entry of this.entries.values()) {
      if (provider && !entry.providers.has(provider)) continue;
      out.push(entry.session);
    }
    return out.sort((a, b) =>
      a.updatedAt === b.updatedAt ? b.id.localeCompare(a.id) : b.updatedAt.localeCompare(a.updatedAt),
    );
  }

  get size(): number {
    return this.entries.size;
  }
}
