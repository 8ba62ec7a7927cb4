import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminRequest,
  runRunbookScript,
  startTestGateway,
  type TestGateway,
} from '../helpers/test-gateway.js';

/** The runbook's session commands, verbatim (Fast Triage step 4 and playbook B). */
const runbook = {
  list: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions?source=db&limit=20" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  listStale: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions?source=db&limit=100" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  status: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions/$SESSION_ID/status?source=db" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  summary: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions/$SESSION_ID/summary?source=db" \\
  -H "x-admin-token: $ADMIN_API_TOKEN"`,
  compact: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions/$SESSION_ID/compact" \\
  -H "x-admin-token: $ADMIN_API_TOKEN" \\
  -H "content-type: application/json" \\
  -d '{"keepRecent": 40}'`,
  close: `curl -s "$API_BASE_URL/api/admin/agent-gateway/sessions/$SESSION_ID/close" \\
  -H "x-admin-token: $ADMIN_API_TOKEN" \\
  -X POST`,
  health: `curl -s "$API_BASE_URL/health"
curl -s "$API_BASE_URL/ready"`,
};

describe('runbook session commands against a real port', () => {
  let t: TestGateway;
  let sessionId: string;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
    const created = await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
      channel: 'runbook',
      externalSessionId: 'rb-1',
    });
    sessionId = created.json().session.id;
    for (let i = 0; i < 45; i++) {
      await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${sessionId}/events`, {
        fromRole: 'observer',
        type: 'observer_message',
        payload: { i },
      });
    }
  });
  afterAll(async () => t?.close());

  const curl = (script: string) => runRunbookScript(t, script, { SESSION_ID: sessionId });

  it('health and ready', async () => {
    const out = await curl(runbook.health);
    expect(out).toContain('"status":"ok"');
    expect(out).toContain('"db":"ok"');
  });

  it('lists, inspects, compacts and closes a session as the runbook says', async () => {
    const list = JSON.parse(await curl(runbook.list));
    expect(list.source).toBe('db');
    expect(list.sessions.map((s: { id: string }) => s.id)).toContain(sessionId);
    expect(JSON.parse(await curl(runbook.listStale)).sessions.length).toBeGreaterThan(0);

    const status = JSON.parse(await curl(runbook.status));
    expect(status).toMatchObject({
      source: 'db',
      status: { sessionId, status: 'active', eventCount: 45, health: 'ok' },
    });
    const summary = JSON.parse(await curl(runbook.summary));
    expect(summary.summary.byType).toEqual({ observer_message: 45 });

    const compact = JSON.parse(await curl(runbook.compact));
    expect(compact).toMatchObject({
      keepRecent: 40,
      totalBefore: 45,
      keptCount: 40,
      prunedCount: 5,
      totalAfter: 41,
    });

    const close = JSON.parse(await curl(runbook.close));
    expect(close.session).toMatchObject({ id: sessionId, status: 'closed' });
    const after = JSON.parse(await curl(runbook.status));
    expect(after.status.status).toBe('closed');
  });
});
