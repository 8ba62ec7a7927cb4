import { defaultChain, providerEnvFields } from './runtime-config.js';

const fieldDocs: Record<(typeof providerEnvFields)[number], string> = {
  KIND: '`openai` · `anthropic` · `gemini` · `http` · `deterministic`. Default: `http` when an endpoint is set, else `deterministic`.',
  ENDPOINT:
    'Base URL: OpenAI-compatible `…/v1` (adds `/chat/completions`), Anthropic `https://api.anthropic.com`, Gemini `https://generativelanguage.googleapis.com`, or the exact URL for `http`.',
  API_KEY: 'API key *(secret: never logged or returned)*. Not required for `http`.',
  MODEL: 'Model name sent upstream. Required for network kinds with an endpoint.',
  AUTH_PROFILES: 'Comma list of auth profiles tried in order (default `default`); each has its own circuit.',
};

/** The per-provider variables section appended to docs/configuration.md (generated, like the settings table). */
export function renderRuntimeProviderDocs(): string {
  const lines = [
    '## AI runtime providers (per-provider variables)',
    '',
    'A provider id (`^[a-z0-9][a-z0-9._-]{0,63}$`) named in a chain, in the `AI_RUNTIME_CONFIG` file or by an',
    '`AI_RUNTIME_<PROVIDER>_KIND` variable is defined by the variables below, where `<PROVIDER>` is the id uppercased',
    'with every non-alphanumeric character as `_` (`local-primary` → `LOCAL_PRIMARY`). `ENDPOINT`, `API_KEY` and',
    '`MODEL` can be overridden per auth profile with a `__<PROFILE>` suffix (`AI_RUNTIME_OPENAI_API_KEY__BACKUP`).',
    'Any other `AI_RUNTIME_*` variable is a startup error naming it.',
    '',
    '| Variable | Meaning |',
    '| --- | --- |',
    ...providerEnvFields.map((field) => `| \`AI_RUNTIME_<PROVIDER>_${field}\` | ${fieldDocs[field]} |`),
    '',
    `With nothing configured every role runs \`${defaultChain.join(',')}\`: two deterministic providers, so a fresh`,
    'install works offline and failover can be exercised. A provider runs in **deterministic** mode (and says so:',
    '`mode: "deterministic"` with a `modeReason`) when `AI_RUNTIME_USE_HTTP_ADAPTERS` is not `true`, its kind is',
    '`deterministic`, or it lacks an endpoint (or, except for `http`, a key).',
    '',
    'The `AI_RUNTIME_CONFIG` file (`.json`, or YAML otherwise) has the same definitions; environment variables win:',
    '',
    '```yaml',
    'providers:',
    '  openai-main:',
    '    kind: openai',
    '    endpoint: https://api.openai.com/v1',
    '    model: gpt-4o-mini',
    '    authProfiles:',
    '      primary: { apiKey: sk-… }',
    '      backup: { apiKey: sk-… }',
    'chains:',
    '  critic: [openai-main, local-fallback]',
    '```',
    '',
  ];
  return lines.join('\n');
}
