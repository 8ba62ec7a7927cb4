import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { loadRuntimeDefinition } from './runtime-config.js';

const load = (env: Record<string, string>) => loadRuntimeDefinition(loadConfig(env));

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('runtime definition from env and file', () => {
  it('defaults to a two-entry deterministic chain for every role', () => {
    const def = load({});
    for (const role of ['author', 'critic', 'maker', 'judge'] as const) {
      expect(def.chains[role]).toEqual(['local-primary', 'local-fallback']);
    }
    expect([...def.providers.values()].map((p) => [p.id, p.kind, p.mode])).toEqual([
      ['local-primary', 'deterministic', 'deterministic'],
      ['local-fallback', 'deterministic', 'deterministic'],
    ]);
    expect(def.settings).toMatchObject({
      cooldownMs: 30000,
      attemptTimeoutMs: 12000,
      runDeadlineMs: 60000,
      maxRetriesPerProvider: 1,
      httpTimeoutMs: 20000,
      upstreamConnections: 1024,
    });
  });

  it('reads chains (trimmed, lowercased, deduped) and per-provider variables with profile overrides', () => {
    const def = load({
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_CRITIC_MODEL_CHAIN: ' OpenAI-Main , local-fallback,openai-main',
      AI_RUNTIME_OPENAI_MAIN_KIND: 'openai',
      AI_RUNTIME_OPENAI_MAIN_ENDPOINT: 'https://api.openai.com/v1',
      AI_RUNTIME_OPENAI_MAIN_API_KEY: 'sk-base',
      AI_RUNTIME_OPENAI_MAIN_MODEL: 'gpt-4o-mini',
      AI_RUNTIME_OPENAI_MAIN_AUTH_PROFILES: 'primary,Backup',
      AI_RUNTIME_OPENAI_MAIN_API_KEY__BACKUP: 'sk-backup',
      AI_RUNTIME_OPENAI_MAIN_MODEL__BACKUP: 'gpt-4o',
    });
    expect(def.chains.critic).toEqual(['openai-main', 'local-fallback']);
    const provider = def.providers.get('openai-main')!;
    expect(provider).toMatchObject({ kind: 'openai', mode: 'live', model: 'gpt-4o-mini' });
    expect(provider.profiles.map((p) => [p.name, p.apiKey, p.model, p.mode])).toEqual([
      ['primary', 'sk-base', 'gpt-4o-mini', 'live'],
      ['backup', 'sk-backup', 'gpt-4o', 'live'],
    ]);
  });

  it('runs network providers deterministically, and says why, unless HTTP adapters are enabled with endpoint and key', () => {
    const base = {
      AI_CRITIC_MODEL_CHAIN: 'remote',
      AI_RUNTIME_REMOTE_KIND: 'anthropic',
      AI_RUNTIME_REMOTE_ENDPOINT: 'https://api.anthropic.com',
      AI_RUNTIME_REMOTE_MODEL: 'claude',
    };
    expect(load(base).providers.get('remote')?.profiles[0]).toMatchObject({
      mode: 'deterministic',
      modeReason: 'AI_RUNTIME_USE_HTTP_ADAPTERS is not true',
    });
    expect(
      load({ ...base, AI_RUNTIME_USE_HTTP_ADAPTERS: 'true' }).providers.get('remote')?.profiles[0],
    ).toMatchObject({ mode: 'deterministic', modeReason: 'AI_RUNTIME_REMOTE_API_KEY is not set' });
    expect(
      load({ ...base, AI_RUNTIME_USE_HTTP_ADAPTERS: 'true', AI_RUNTIME_REMOTE_API_KEY: 'k' }).providers.get(
        'remote',
      )?.mode,
    ).toBe('live');
  });

  it('reports every problem at once, naming each variable and never echoing a key', () => {
    const found = problems({
      AI_PROVIDER_COOLDOWN_MS: 'soon',
      AI_RUNTIME_X_KIND: 'llama',
      AI_RUNTIME_Y_ENDPOINT: 'ftp://nope',
      AI_RUNTIME_Y_KIND: 'openai',
      AI_RUNTIME_Y_API_KEY: 'sk-super-secret',
      AI_RUNTIME_Y_MODEL: 'm',
      AI_RUNTIME_Z_API_KEY__GHOST: 'sk-ghost-secret',
      AI_RUNTIME_TYPO: '1',
    }).join('\n');
    // Static settings fail first (loadConfig), dynamic ones in loadRuntimeDefinition.
    expect(found).toContain('AI_PROVIDER_COOLDOWN_MS');
    const dynamic = problems({
      AI_RUNTIME_X_KIND: 'llama',
      AI_RUNTIME_Y_ENDPOINT: 'ftp://nope',
      AI_RUNTIME_Y_KIND: 'openai',
      AI_RUNTIME_Y_API_KEY: 'sk-super-secret',
      AI_RUNTIME_Y_MODEL: 'm',
      AI_RUNTIME_Z_API_KEY__GHOST: 'sk-ghost-secret',
      AI_RUNTIME_TYPO: '1',
    }).join('\n');
    expect(dynamic).toContain('AI_RUNTIME_X_KIND must be one of');
    expect(dynamic).toContain('AI_RUNTIME_Y_ENDPOINT must be an http(s) URL');
    expect(dynamic).toContain('AI_RUNTIME_Z_API_KEY__GHOST names profile "ghost"');
    expect(dynamic).toContain('AI_RUNTIME_TYPO is not an AI runtime variable');
    expect(dynamic).not.toContain('sk-');
  });

  it('rejects invalid chain ids and empty chains by variable name', () => {
    expect(() => loadConfig({ AI_JUDGE_MODEL_CHAIN: 'ok,Bad Id' })).toThrow(
      /AI_JUDGE_MODEL_CHAIN has an invalid provider id "bad id"/,
    );
    expect(problems({ AI_MAKER_MODEL_CHAIN: ' , ' })).toEqual(['AI_MAKER_MODEL_CHAIN is empty']);
    expect(() => loadConfig({ AI_RUNTIME_ATTEMPT_TIMEOUT_MS: '0' })).toThrow(
      /AI_RUNTIME_ATTEMPT_TIMEOUT_MS must be between/,
    );
  });

  it('reads an AI_RUNTIME_CONFIG YAML or JSON file; env wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agw-runtime-'));
    const yamlPath = join(dir, 'runtime.yaml');
    writeFileSync(
      yamlPath,
      [
        'providers:',
        '  claude:',
        '    kind: anthropic',
        '    endpoint: https://api.anthropic.com',
        '    model: claude-from-file',
        '    authProfiles:',
        '      main: { apiKey: file-key }',
        '      spare: { apiKey: spare-key, model: claude-spare }',
        'chains:',
        '  critic: [claude, local-fallback]',
        '  judge: [claude]',
      ].join('\n'),
    );
    const def = load({
      AI_RUNTIME_CONFIG: yamlPath,
      AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
      AI_RUNTIME_CLAUDE_MODEL: 'claude-from-env',
      AI_JUDGE_MODEL_CHAIN: 'local-primary',
    });
    expect(def.chains.critic).toEqual(['claude', 'local-fallback']);
    expect(def.chains.judge).toEqual(['local-primary']);
    const claude = def.providers.get('claude')!;
    expect(claude.profiles.map((p) => [p.name, p.model, p.apiKey, p.mode])).toEqual([
      ['main', 'claude-from-env', 'file-key', 'live'],
      ['spare', 'claude-spare', 'spare-key', 'live'],
    ]);

    const jsonPath = join(dir, 'runtime.json');
    writeFileSync(jsonPath, JSON.stringify({ providers: { g: { kind: 'gemini', bogus: 1 } } }));
    expect(problems({ AI_RUNTIME_CONFIG: jsonPath }).join('\n')).toMatch(
      /AI_RUNTIME_CONFIG .*runtime\.json: providers\.g/,
    );
    expect(problems({ AI_RUNTIME_CONFIG: join(dir, 'missing.yaml') })[0]).toMatch(
      /AI_RUNTIME_CONFIG cannot read/,
    );
  });
});
