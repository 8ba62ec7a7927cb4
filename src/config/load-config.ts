import { type Config, collectAiRuntimeEnv, type Setting, type SettingKey, settings } from './settings.js';

/** Thrown when one or more settings are invalid; lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads every setting from `env` once, reports all problems together, and returns a frozen object.
 * Only `config/` reads the environment.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(settings) as [SettingKey, Setting<unknown>][]) {
    const raw = env[definition.env];
    if (raw === undefined || raw.trim() === '') {
      values[key] = definition.default;
      continue;
    }
    try {
      values[key] = definition.parse(raw);
    } catch (error) {
      problems.push(`${definition.env} ${(error as Error).message}`);
    }
  }
  if ((values.workers as number) > 1) {
    // Workers are replicas on one host: nothing they must agree on may live in one process.
    if (!values.databaseUrl)
      problems.push('AGW_WORKERS > 1 needs DATABASE_URL: the embedded store (PGlite) is single-process');
    if (!values.redisUrl)
      problems.push(
        'AGW_WORKERS > 1 needs REDIS_URL: circuits, rate limits and signature bindings must be shared between workers',
      );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  values.aiRuntimeEnv = Object.freeze(collectAiRuntimeEnv(env));
  return Object.freeze(values) as Config;
}
