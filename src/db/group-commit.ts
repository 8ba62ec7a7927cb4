/** One item's outcome inside a committed batch: its value, or a refusal of that item alone. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<T, R> {
  /** Batches in flight at once (each usually holds one pooled connection for one transaction). */
  maxInFlight: number;
  /** Items per batch. */
  maxBatch: number;
  /**
   * Rows an item writes that no other batch in flight may touch (a session id, a dedup key). An item waits while
   * one of its keys is in flight or already in the batch being formed: batches never wait on each other's rows
   * (no lock cycles) and a key's items commit in arrival order.
   */
  keys?: (item: T) => readonly string[];
  /** Commits a batch and settles each item; a rejection fails every item of the batch. */
  commit(items: T[]): Promise<Settled<R>[]>;
}

/**
 * Group commit: items submitted while a batch is committing go together in the next one, so N concurrent writers
 * cost a few transactions instead of N. `setImmediate` lets everything submitted in the same turn of the event loop
 * join one batch, unless the batch fills first: then it starts at once. Each item's promise settles only after its
 * batch committed.
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve(value: R): void; reject(error: unknown): void }[] = [];
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private scheduled = false;
  /** Batches committed, items in them, and the largest batch. */
  readonly stats = { batches: 0, items: 0, largest: 0 };

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    // A full batch starts at once, while the rest of this turn's requests are still being parsed: the database
    // works on it in parallel with them instead of after them.
    if (this.pending.length >= this.options.maxBatch) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const { keys, maxBatch } = this.options;
    const batch: typeof this.pending = [];
    const taken = new Set<string>();
    const rest: typeof this.pending = [];
    for (const entry of this.pending) {
      const own = keys ? keys(entry.item) : [];
      if (batch.length < maxBatch && own.every((k) => !taken.has(k) && !this.busy.has(k))) {
        batch.push(entry);
        for (const k of own) taken.add(k);
      } else {
        rest.push(entry);
      }
    }
    this.pending = rest;
    if (batch.length === 0) return; // everything waits for a key in flight; that batch's end reschedules
    for (const k of taken) this.busy.add(k);
    this.inFlight += 1;
    this.stats.batches += 1;
    this.stats.items += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    void this.options
      .commit(batch.map((entry) => entry.item))
      .then(
        (outcomes) => {
          for (const [index, entry] of batch.entries()) {
            const outcome = outcomes[index];
            if (outcome?.ok) entry.resolve(outcome.value);
            else entry.reject(outcome ? outcome.error : new Error('group commit: no outcome for an item'));
          }
        },
        (error) => {
          for (const entry of batch) entry.reject(error);
        },
      )
      .finally(() => {
        for (const k of taken) this.busy.delete(k);
        this.inFlight -= 1;
        this.schedule();
      });
    this.schedule();
  }
}
