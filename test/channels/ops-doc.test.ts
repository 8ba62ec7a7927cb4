import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRunbookScript, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'ops-doc-secret-0123456789abcdef';
const doc = readFileSync(new URL('../../docs/ops/ingest-connectors.md', import.meta.url), 'utf8');
const profiles = readFileSync(
  new URL('../../docs/ops/examples/agent-gateway-ingest-connector-profiles.example.json', import.meta.url),
  'utf8',
);

/** The fenced bash blocks of the guide, in order. */
const bashBlocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/ops/ingest-connectors.md commands, verbatim', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      listen: true,
      env: { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET, AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: profiles },
    });
  });
  afterAll(async () => t?.close());

  it('the signed curl (openssl HMAC over "<ts>.<body>") is applied once, then answered as a replay', async () => {
    const script = bashBlocks.find((b) => b.includes('x-gateway-signature'))!;
    const env = { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET };
    const first = JSON.parse(await runRunbookScript(t, script, env));
    expect(first).toMatchObject({
      applied: true,
      connectorId: 'telegram_main',
      channel: 'telegram',
      externalSessionId: 'telegram_chat:-100123',
      event: { fromRole: 'observer', toRole: 'author', type: 'observer_message' },
    });
    expect(first.event.payload.message.text).toBe("it's <ready> & 🚀");
    const again = JSON.parse(await runRunbookScript(t, script, env));
    expect(again).toMatchObject({ applied: false, deduplicated: true, sessionId: first.sessionId });

    const failures = bashBlocks.find((b) => b.includes('reply_delivery_failed'))!;
    const out = JSON.parse(await runRunbookScript(t, failures, { SESSION_ID: first.sessionId }));
    expect(out).toMatchObject({ total: 0, events: [] });
  });
});
