import { type RunResult, run } from '../helpers/processes.js';

/** Runs a bash script in `cwd` with only PATH and the given variables (bounded). */
export function runInDir(
  cwd: string,
  script: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return run('bash', ['-c', script], { PATH: process.env.PATH, ...env }, timeoutMs, cwd);
}
