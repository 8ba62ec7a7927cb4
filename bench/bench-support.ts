import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * A fresh `agw_bench_<random>` database on the `DATABASE_URL` server (default the local test server), created after
 * a CHECKPOINT; `drop` removes it, forcing off leftover connections, unless `keep` is set.
 */
export async function createBenchDatabase(): Promise<{
  name: string;
  url: string;
  drop(keep?: boolean): Promise<void>;
}> {
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `agw_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  // Start from a clean server: a CHECKPOINT writes out what earlier benches left dirty (bench:telemetry writes
  // 5M events), so this bench does not pay for that I/O. Needs a superuser; skipped otherwise.
  await admin.query('checkpoint').catch(() => undefined);
  await admin.query(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop(keep = false) {
      if (!keep) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** One measured figure of a benchmark, as the `npm run bench` report shows it. */
export interface BenchFigure {
  name: string;
  unit: string;
  value: number;
  /** What the figure is compared with, measured in the same run (or the stated ideal). */
  baseline?: { name: string; value: number };
  /** How `value` relates to the baseline, in the figure's own terms (e.g. value / baseline). */
  ratio?: number;
  /** The target from SPEC / the issues, as text. */
  target?: string;
  /** Whether the target is met; null when it cannot be evaluated in this run. */
  pass?: boolean | null;
}

export interface BenchResults {
  bench: string;
  generatedAt: string;
  /** Sizes and settings of this run (so a reduced smoke run is visible in the report). */
  params: Record<string, string | number>;
  figures: BenchFigure[];
}

/** Where `npm run bench` reads each benchmark's machine-readable results. */
export const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes `bench/results/<bench>.json` (the report is built from these files, never from console text). */
export function recordResults(bench: string, params: BenchResults['params'], figures: BenchFigure[]): void {
  mkdirSync(resultsDir, { recursive: true });
  const results: BenchResults = { bench, generatedAt: new Date().toISOString(), params, figures };
  writeFileSync(`${resultsDir}${bench}.json`, `${JSON.stringify(results, null, 2)}\n`);
}
