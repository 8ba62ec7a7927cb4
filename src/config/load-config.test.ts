import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './.data',
      logLevel: 'info',
      orchestrationEnabled: true,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every invalid setting at once, naming each variable, without echoing secrets', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://secret-password@db/x',
        ADMIN_API_TOKENS: '[{"id":"ci","token":"short","scopes":["read"]}]',
        AGENT_ORCHESTRATION_ENABLED: 'maybe',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(5);
      for (const name of [
        'PORT',
        'LOG_LEVEL',
        'DATABASE_URL',
        'ADMIN_API_TOKENS',
        'AGENT_ORCHESTRATION_ENABLED',
      ]) {
        expect(problems.some((p) => p.startsWith(name))).toBe(true);
      }
      expect((error as Error).message).not.toContain('secret-password');
    }
  });

  it('parses scoped admin tokens and refuses unknown scopes and duplicates', () => {
    const config = loadConfig({
      ADMIN_API_TOKENS: JSON.stringify([
        { id: 'ci', token: 'ci-token-0123456789abcdef', scopes: ['read'] },
        { id: 'ops', sha256: 'a'.repeat(64), scopes: ['operate', 'read'] },
      ]),
    });
    expect(config.adminApiTokens.map((t) => [t.id, t.scopes])).toEqual([
      ['ci', ['read']],
      ['ops', ['operate', 'read']],
    ]);
    expect(() =>
      loadConfig({ ADMIN_API_TOKENS: '[{"id":"x","token":"0123456789abcdefg","scopes":["root"]}]' }),
    ).toThrow(/unknown scope/);
    expect(() =>
      loadConfig({
        ADMIN_API_TOKENS: JSON.stringify([
          { id: 'x', token: '0123456789abcdefg', scopes: ['read'] },
          { id: 'x', token: '0123456789abcdefh', scopes: ['read'] },
        ]),
      }),
    ).toThrow(/used twice/);
    expect(() => loadConfig({ ADMIN_API_TOKENS: 'not json' })).toThrow(/ADMIN_API_TOKENS is not valid JSON/);
  });
});
