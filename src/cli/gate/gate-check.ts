import type { GateHttp } from './gate-http.js';
import type { GateOptions } from './gate-options.js';

/** One recorded check of the summary: outcome, timing and what it saw. */
export interface CheckResult {
  pass: boolean;
  skipped: boolean;
  skipReason: string | null;
  startedAtUtc: string;
  durationMs: number;
  details: Record<string, unknown>;
  errors: string[];
}

/** Why a check did not run: an explicit `--skip-*` flag or nothing to probe is fine; anything else fails in strict mode. */
export type SkipKind = 'flag' | 'nothing_to_probe' | 'unavailable';

export class SkipCheck extends Error {
  constructor(
    readonly kind: SkipKind,
    reason: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(reason);
  }
}

/** What every check receives. */
export interface GateContext {
  http: GateHttp;
  options: GateOptions;
  runId: string;
  /** Keeps every list in details and errors to `--failure-detail-max-items`. */
  limit<T>(items: readonly T[]): T[];
  sleep(ms: number): Promise<void>;
  /** Stale active sessions seen by the previous run in `--history` (null without one). */
  staleBaseline: number | null;
}

/** What a check body returns: its verdict, details and the reasons it failed. */
export interface CheckOutcome {
  details: Record<string, unknown>;
  errors: string[];
}

/**
 * Runs one check, never throwing: a `SkipCheck` records a skip (a failure in strict mode unless asked for by a flag
 * or there was nothing to probe), any other exception a failure with its message. Checks pass when `errors` is empty.
 */
export async function runCheck(
  ctx: GateContext,
  body: () => Promise<CheckOutcome>,
): Promise<CheckResult & { skipKind?: SkipKind }> {
  const started = Date.now();
  const startedAtUtc = new Date(started).toISOString();
  try {
    const outcome = await body();
    return {
      pass: outcome.errors.length === 0,
      skipped: false,
      skipReason: null,
      startedAtUtc,
      durationMs: Date.now() - started,
      details: outcome.details,
      errors: ctx.limit(outcome.errors),
    };
  } catch (error) {
    if (error instanceof SkipCheck) {
      const failsStrict = ctx.options.strict && error.kind === 'unavailable';
      return {
        pass: !failsStrict,
        skipped: true,
        skipReason: error.message,
        skipKind: error.kind,
        startedAtUtc,
        durationMs: Date.now() - started,
        details: error.details,
        errors: failsStrict ? [`skipped in strict mode: ${error.message}`] : [],
      };
    }
    return {
      pass: false,
      skipped: false,
      skipReason: null,
      startedAtUtc,
      durationMs: Date.now() - started,
      details: {},
      errors: [`check crashed: ${(error as Error).message}`],
    };
  }
}

/** Drops the internal skip kind before the result is written out. */
export function publicCheck(result: CheckResult & { skipKind?: SkipKind }): CheckResult {
  const { skipKind: _kind, ...rest } = result;
  return rest;
}
