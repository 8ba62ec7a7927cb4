import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../cli-context.js';

/** One past run as `--history` keeps it. */
export interface HistoryEntry {
  runId: string;
  generatedAtUtc: string;
  strict: boolean;
  pass: boolean;
  requiredFailedChannels: string[];
  /** Active sessions idle for 15 minutes when the run looked (null when the lookup failed). */
  staleActiveSessions?: number | null;
}

/** How many runs the file keeps. */
const KEEP = 20;

export function readHistory(file: string): HistoryEntry[] {
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--history ${file}: not readable JSON (${(error as Error).message})`);
  }
  const runs = (parsed as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) throw new UsageError(`--history ${file}: expected { "runs": [...] }`);
  return runs.filter(
    (r): r is HistoryEntry =>
      r !== null &&
      typeof r === 'object' &&
      typeof (r as HistoryEntry).strict === 'boolean' &&
      Array.isArray((r as HistoryEntry).requiredFailedChannels),
  );
}

export function writeHistory(file: string, runs: HistoryEntry[], entry: HistoryEntry): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ runs: [...runs, entry].slice(-KEEP) }, null, 2)}\n`);
}

export interface HardStop {
  triggered: boolean;
  previousStrictRun: { runId: string; generatedAtUtc: string; requiredFailedChannels: string[] } | null;
  message: string | null;
}

/**
 * The runbook's hard stop: required external channels failed in this strict run and in the previous strict run →
 * pause the rollout. Non-strict runs neither trigger it nor break the sequence.
 */
export function hardStop(history: HistoryEntry[], current: HistoryEntry): HardStop {
  const previous = [...history].reverse().find((r) => r.strict) ?? null;
  const previousStrictRun = previous
    ? {
        runId: previous.runId,
        generatedAtUtc: previous.generatedAtUtc,
        requiredFailedChannels: previous.requiredFailedChannels,
      }
    : null;
  const triggered =
    current.strict &&
    current.requiredFailedChannels.length > 0 &&
    (previous?.requiredFailedChannels.length ?? 0) > 0;
  return {
    triggered,
    previousStrictRun,
    message: triggered
      ? `PAUSE ROLLOUT: required external channels failed in two consecutive strict runs ` +
        `(now: ${current.requiredFailedChannels.join(', ')}; run ${previous!.runId}: ${previous!.requiredFailedChannels.join(', ')}). ` +
        'Follow the rollback thresholds in docs/ops/rollback-playbook.md.'
      : null,
  };
}

/** The stale active count of the latest run that recorded one: the baseline "abnormal growth" is measured against. */
export function staleBaseline(history: HistoryEntry[]): number | null {
  for (const run of [...history].reverse())
    if (typeof run.staleActiveSessions === 'number') return run.staleActiveSessions;
  return null;
}
