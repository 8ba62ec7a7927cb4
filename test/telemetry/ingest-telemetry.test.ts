import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIngest } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'telemetry-ingest-secret-0123456789';
const SLACK_SECRET = 'telemetry-slack-connector-secret-0123';

describe('telemetry: ingest connectors, policies and profiles; the ingest metric', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      env: {
        AGENT_GATEWAY_WEBHOOK_SECRET: SECRET,
        // slack_main is restricted: it must sign with its own connector secret.
        AGENT_GATEWAY_INGEST_CONNECTOR_SECRETS: JSON.stringify({ slack_main: SLACK_SECRET }),
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: JSON.stringify({
          telegram_main: { channel: 'telegram', fromRole: 'observer', type: 'observer_message' },
          slack_main: 'slack',
        }),
        AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: JSON.stringify({
          telegram_main: { riskLevel: 'trusted' },
          slack_main: { riskLevel: 'restricted', maxPayloadKeys: 5 },
        }),
      },
    });
    const send = (connectorId: string, eventId: string, payload: unknown, secret = SECRET) =>
      signedIngest(t, { connectorId, eventId, payload }, { secret });
    // telegram_main: 3 accepted, 1 replayed; slack_main: 1 accepted, 2 rejected (too many payload keys, bad signature)
    for (const [i, chat] of [101, 102, 103].entries())
      expect(
        (await send('telegram_main', `tg-${i}`, { message: { chat: { id: chat } }, text: 'hi' })).statusCode,
      ).toBe(201);
    expect(
      (await send('telegram_main', 'tg-0', { message: { chat: { id: 101 } }, text: 'hi' })).statusCode,
    ).toBe(200);
    const slack = await send('slack_main', 'sl-1', { event: { channel: 'C1' } }, SLACK_SECRET);
    expect(slack.statusCode, slack.body).toBe(201);
    const payload = { event: { channel: 'C1' }, a: 1, b: 2, c: 3, d: 4, e: 5 };
    const tooMany = await send('slack_main', 'sl-2', payload, SLACK_SECRET);
    expect(tooMany.statusCode, tooMany.body).toBe(413);
    const forged = await send(
      'slack_main',
      'sl-3',
      { event: { channel: 'C1' } },
      'not-the-secret-0123456789',
    );
    expect(forged.statusCode).toBe(401);
    await t.gateway.ingest.flushCounters();
  });
  afterAll(async () => t?.close());

  it('counts accepted / replayed / rejected per connector with codes, risk levels and levels', async () => {
    const body = (await adminRequest(t, 'GET', '/api/admin/agent-gateway/telemetry?hours=24')).json();
    const { ingestConnectors } = body;
    expect(ingestConnectors).toMatchObject({ total: 2, accepted: 4, replayed: 1, rejected: 2 });
    const byId = Object.fromEntries(
      ingestConnectors.connectors.map((c: { connectorId: string }) => [c.connectorId, c]),
    );
    expect(byId.telegram_main).toMatchObject({
      channels: ['telegram'],
      total: 4,
      accepted: 3,
      replayed: 1,
      rejected: 0,
      rejectRate: 0,
      riskLevel: 'trusted',
      level: 'healthy',
    });
    expect(byId.slack_main).toMatchObject({
      total: 3,
      accepted: 1,
      rejected: 2,
      rejectRate: 0.667,
      level: 'critical',
    });
    expect(byId.slack_main.riskLevel).toBe('restricted');
    expect(byId.slack_main.rejectCodes.map((c: { code: string }) => c.code).sort()).toEqual([
      'AGENT_GATEWAY_INGEST_POLICY_REJECTED',
      'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
    ]);
    expect(body.connectorPolicies).toMatchObject({
      total: 2,
      byRiskLevel: { restricted: 1, standard: 0, trusted: 1 },
    });
    expect(body.connectorProfiles).toMatchObject({ total: 2, enforced: false });
    expect(body.connectorProfiles.profiles).toEqual([
      { connectorId: 'slack_main', channel: 'slack' },
      { connectorId: 'telegram_main', channel: 'telegram', fromRole: 'observer', type: 'observer_message' },
    ]);
    // The ingested sessions show up as the external_webhook adapter.
    expect(body.adapters.usage[2]).toMatchObject({ adapter: 'external_webhook', total: 4 });

    const filtered = (
      await adminRequest(t, 'GET', '/api/admin/agent-gateway/adapters?hours=24&connector=slack_main')
    ).json();
    expect(filtered.ingestConnectors.connectors.map((c: { connectorId: string }) => c.connectorId)).toEqual([
      'slack_main',
    ]);
    expect(filtered.connectorProfiles.total).toBe(2);
  });

  it('agw_ingest_requests_total counts every outcome by connector and code', async () => {
    const text = (await t.gateway.app.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (labels: string) =>
      Number(
        new RegExp(`^agw_ingest_requests_total\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN,
      );
    expect(value('connector="telegram_main",outcome="accepted",code="APPLIED"')).toBe(3);
    expect(value('connector="telegram_main",outcome="replayed",code="DEDUPLICATED"')).toBe(1);
    expect(
      value('connector="slack_main",outcome="rejected",code="AGENT_GATEWAY_INGEST_SIGNATURE_INVALID"'),
    ).toBe(1);
  });
});
