import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * A fresh `agw_bench_<random>` database on the `DATABASE_URL` server (default the local test server); `drop`
 * removes it, forcing off leftover connections, unless `keep` is set.
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
