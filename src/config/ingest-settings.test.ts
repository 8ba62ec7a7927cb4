import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

const exampleFile = new URL(
  '../../docs/ops/examples/agent-gateway-ingest-connector-profiles.example.json',
  import.meta.url,
);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('ingest configuration', () => {
  it('loads the shipped example profiles (telegram_main, slack_main, discord_main, launch_probe)', () => {
    const config = loadConfig({ AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: readFileSync(exampleFile, 'utf8') });
    expect(Object.keys(config.ingestConnectorProfiles).sort()).toEqual([
      'discord_main',
      'launch_probe',
      'slack_main',
      'telegram_main',
    ]);
    expect(config.ingestConnectorProfiles.telegram_main).toEqual({
      adapter: 'external_webhook',
      channel: 'telegram',
      fromRole: 'observer',
      toRole: 'author',
      type: 'observer_message',
    });
  });

  it('accepts the runbook example, including a bare channel string', () => {
    const config = loadConfig({
      AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({
        telegram_main: {
          adapter: 'external_webhook',
          channel: 'telegram',
          fromRole: 'observer',
          toRole: 'author',
          type: 'observer_message',
        },
        slack_main: 'slack',
      }),
    });
    expect(config.ingestConnectorProfiles.slack_main).toEqual({ channel: 'slack' });
  });

  it('fails fast naming the variable and the connector', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: '{"a":' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES',
        /not valid JSON/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: '{"tg":{"adapter":"fax"}}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES',
        /connector "tg": unknown adapter "fax"/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: '{"empty_one":{}}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES',
        /connector "empty_one": profile is empty/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: '{"x":{"colour":"red"}}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES',
        /connector "x": unknown field/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: '{"p1":{"riskLevel":"yolo"}}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES',
        /connector "p1": riskLevel/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: '{"p2":{"rateLimitMax":0}}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES',
        /connector "p2": rateLimitMax/,
      ],
      [
        { AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: '{"s1":"short"}' },
        'AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS',
        /connector "s1"/,
      ],
      [
        { AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS: 'ok, Not Valid!' },
        'AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS',
        /connector "Not Valid!"/,
      ],
      [
        { AGENT_GATEWAY_CHANNEL_CONNECTORS: '{"d1":{"platform":"discord","publicKey":"zz"}}' },
        'AGENT_GATEWAY_CHANNEL_CONNECTORS',
        /connector "d1": publicKey/,
      ],
    ];
    for (const [env, variable, message] of cases) {
      const [problem] = problems(env);
      expect(problem).toMatch(new RegExp(`^${variable} `));
      expect(problem).toMatch(message);
    }
  });

  it('never echoes a secret in a configuration error', () => {
    const [problem] = problems({ AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: '{"s1":"tiny-secret"}' });
    expect(problem).not.toContain('tiny-secret');
  });
});
