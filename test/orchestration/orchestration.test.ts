import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockProvider, startMockProvider } from '../../src/mock-provider/mock-provider.js';
import {
  adminRequest,
  COMPLETED_CYCLE_EVENT_TYPES,
  runRunbookScript,
  startTestGateway,
  type TestGateway,
} from '../helpers/test-gateway.js';

const S = '/api/admin/agent-gateway/sessions';

async function createDraft(t: TestGateway, body: Record<string, unknown> = {}) {
  const res = await adminRequest(t, 'POST', '/api/admin/drafts', {
    title: 'Launch note',
    body: "We're shipping the gateway <today> & it's fast.",
    context: 'Persona: release manager. Style: short, concrete.',
    ...body,
  });
  expect(res.statusCode).toBe(201);
  return res.json().draft as { id: string; revision: number };
}

describe('drafts and orchestration (deterministic providers)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
  });
  afterAll(async () => t?.close());

  it('creates, lists and shows drafts with revisions; validates input', async () => {
    const draft = await createDraft(t);
    expect(draft.revision).toBe(1);
    const shown = (await adminRequest(t, 'GET', `/api/admin/drafts/${draft.id}`)).json();
    expect(shown.draft).toMatchObject({
      id: draft.id,
      title: 'Launch note',
      context: 'Persona: release manager. Style: short, concrete.',
    });
    expect(shown.revisions).toHaveLength(1);
    const list = (await adminRequest(t, 'GET', '/api/admin/drafts?limit=10')).json();
    expect(list.drafts.map((d: { id: string }) => d.id)).toContain(draft.id);
    for (const body of [{}, { title: '', body: 'x' }, { title: 'x' }, { title: 'x', body: 'y', extra: 1 }]) {
      const res = await adminRequest(t, 'POST', '/api/admin/drafts', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_BODY');
    }
    const missing = await adminRequest(t, 'GET', '/api/admin/drafts/00000000-0000-4000-8000-000000000000');
    expect(missing.json().error).toBe('DRAFT_NOT_FOUND');
  });

  it('runbook playbook C: the orchestrate curl returns 201 with session metadata; events are visible', async () => {
    const draft = await createDraft(t);
    const script = `curl -s "$API_BASE_URL/api/admin/agent-gateway/orchestrate" \\
  -H "x-admin-token: $ADMIN_API_TOKEN" \\
  -H "content-type: application/json" \\
  -d '{"draftId":"${draft.id}","channel":"release-check"}'`;
    const out = await runRunbookScript(t, `${script} -w '\\n%{http_code}'`);
    const [body, status] = out.trim().split('\n');
    expect(status).toBe('201');
    const result = JSON.parse(body!);
    expect(result).toMatchObject({
      channel: 'release-check',
      draftId: draft.id,
      completed: true,
      status: 'completed',
    });
    expect(result.sessionId).toMatch(/^ags-/);
    expect(result.steps.map((s: { role: string }) => s.role)).toEqual(['critic', 'maker', 'judge']);
    expect(result.steps[0].prompt).toContain('Persona: release manager');
    expect(result.steps[0].prompt).toContain("We're shipping the gateway <today> & it's fast.");
    expect(result.steps[1].prompt).toContain(result.steps[0].result.output);
    expect(result.steps[0].result).toMatchObject({
      failed: false,
      selectedProvider: 'local-primary',
      mode: 'deterministic',
    });
    expect(result.verdict).toMatchObject({ verdict: 'merge', confidence: 0.8, revision: 2 });

    const events = (await adminRequest(t, 'GET', `${S}/${result.sessionId}/events?limit=100`)).json();
    expect(events.events.map((e: { type: string }) => e.type).reverse()).toEqual([
      ...COMPLETED_CYCLE_EVENT_TYPES,
    ]);
    const status2 = (await adminRequest(t, 'GET', `${S}/${result.sessionId}/status`)).json().status;
    expect(status2).toMatchObject({ status: 'closed', cycleCompletedCount: 1, draftId: draft.id });

    // merge → revision 2 holds the maker's text
    const shown = (await adminRequest(t, 'GET', `/api/admin/drafts/${draft.id}`)).json();
    expect(shown.draft.revision).toBe(2);
    expect(shown.revisions[1]).toMatchObject({
      revision: 2,
      source: 'orchestration',
      body: result.steps[1].result.output,
    });
  });

  it('async mode answers 202 and the run completes in the background', async () => {
    const draft = await createDraft(t);
    const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', {
      draftId: draft.id,
      async: true,
    });
    expect(res.statusCode).toBe(202);
    const { runId, sessionId, status } = res.json();
    expect(status).toBe('queued');
    const done = await t.gateway.orchestrator.describe(runId);
    expect(['queued', 'running', 'completed']).toContain(done.status);
    for (let i = 0; i < 100; i++) {
      const r = (await adminRequest(t, 'GET', `/api/admin/agent-gateway/runs/${runId}`)).json();
      if (r.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const final = (await adminRequest(t, 'GET', `/api/admin/agent-gateway/runs/${runId}`)).json();
    expect(final).toMatchObject({ status: 'completed', sessionId });
  });

  it('validates orchestrate input; unknown draft 404; closed session 409', async () => {
    for (const body of [
      {},
      { draftId: 'nope' },
      { draftId: '00000000-0000-4000-8000-000000000000', promptSeed: 'x'.repeat(4001) },
    ]) {
      const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_BODY');
    }
    const missing = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', {
      draftId: '00000000-0000-4000-8000-000000000000',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('DRAFT_NOT_FOUND');
    const draft = await createDraft(t);
    const first = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', {
      draftId: draft.id,
      externalSessionId: 'ext-1',
    });
    expect(first.statusCode).toBe(201);
    const again = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', {
      draftId: draft.id,
      externalSessionId: 'ext-1',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('AGENT_GATEWAY_SESSION_CLOSED');
  });

  it('a message addressed to a runtime role gets an agent_reply', async () => {
    const created = await adminRequest(t, 'POST', S, { channel: 'chat', externalSessionId: 'reply-1' });
    const id = created.json().session.id;
    await adminRequest(t, 'POST', `${S}/${id}/events`, {
      fromRole: 'observer',
      toRole: 'critic',
      type: 'observer_message',
      payload: { text: 'What is weak in the launch note?' },
    });
    let reply:
      | { fromRole: string; toRole: string; payload: { inReplyToSeq: number; text: string } }
      | undefined;
    for (let i = 0; i < 100 && !reply; i++) {
      const events = (await adminRequest(t, 'GET', `${S}/${id}/events?eventType=agent_reply`)).json();
      reply = events.events[0];
      if (!reply) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reply).toMatchObject({ fromRole: 'critic', toRole: 'observer', payload: { inReplyToSeq: 1 } });
    expect(reply!.payload.text).toContain('Critique:');
    expect(reply!.payload.text).toContain('What is weak in the launch note?');
  });
});

describe('orchestration with failing providers (mock upstream)', () => {
  let mock: MockProvider;
  let t: TestGateway;
  beforeAll(async () => {
    mock = await startMockProvider({
      script: { models: { 'judge-reject': { text: 'Not better. verdict: reject confidence: 0.90' } } },
    });
    const endpoint = `${mock.url}/v1`;
    t = await startTestGateway({
      env: {
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_RUNTIME_BROKEN_KIND: 'openai',
        AI_RUNTIME_BROKEN_ENDPOINT: endpoint,
        AI_RUNTIME_BROKEN_API_KEY: 'k-broken-0123456789',
        AI_RUNTIME_BROKEN_MODEL: 'mock-status-500',
        AI_RUNTIME_DOWN_KIND: 'openai',
        AI_RUNTIME_DOWN_ENDPOINT: endpoint,
        AI_RUNTIME_DOWN_API_KEY: 'k-down-0123456789',
        AI_RUNTIME_DOWN_MODEL: 'mock-status-503',
        AI_RUNTIME_REJECTER_KIND: 'openai',
        AI_RUNTIME_REJECTER_ENDPOINT: endpoint,
        AI_RUNTIME_REJECTER_API_KEY: 'k-judge-0123456789',
        AI_RUNTIME_REJECTER_MODEL: 'judge-reject',
        AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
        AI_CRITIC_MODEL_CHAIN: 'broken,local-fallback',
        AI_JUDGE_MODEL_CHAIN: 'rejecter',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await mock?.close();
  });

  it("the critic's first provider fails: the fallback answers and the attempts record it; reject → no revision", async () => {
    const draft = await createDraft(t);
    const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    const critic = body.steps[0].result;
    expect(critic).toMatchObject({ failed: false, selectedProvider: 'local-fallback' });
    expect(critic.attempts[0]).toMatchObject({
      provider: 'broken',
      status: 'failed',
      errorCode: 'AI_PROVIDER_HTTP_ERROR',
      httpStatus: 500,
    });
    expect(critic.attempts.at(-1)).toMatchObject({ provider: 'local-fallback', status: 'success' });
    expect(body.verdict).toMatchObject({ verdict: 'reject', confidence: 0.9, revision: null });
    const shown = (await adminRequest(t, 'GET', `/api/admin/drafts/${draft.id}`)).json();
    expect(shown.draft.revision).toBe(1);
    expect(shown.revisions).toHaveLength(1);
  });

  it('every maker provider fails: draft_cycle_failed, no judge step, session closed', async () => {
    await t.close();
    t = await startTestGateway({
      env: {
        AI_RUNTIME_USE_HTTP_ADAPTERS: 'true',
        AI_RUNTIME_DOWN_KIND: 'openai',
        AI_RUNTIME_DOWN_ENDPOINT: `${mock.url}/v1`,
        AI_RUNTIME_DOWN_API_KEY: 'k-down-0123456789',
        AI_RUNTIME_DOWN_MODEL: 'mock-status-503',
        AI_RUNTIME_MAX_RETRIES_PER_PROVIDER: '0',
        AI_MAKER_MODEL_CHAIN: 'down',
      },
    });
    const draft = await createDraft(t);
    const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ completed: false, status: 'failed' });
    expect(body.steps.map((s: { role: string }) => s.role)).toEqual(['critic', 'maker']);
    expect(body.steps[1].result).toMatchObject({ failed: true, selectedProvider: null });
    const events = (await adminRequest(t, 'GET', `${S}/${body.sessionId}/events?limit=50`)).json();
    const types = events.events.map((e: { type: string }) => e.type);
    expect(types).toContain('draft_cycle_failed');
    expect(types).not.toContain('draft_cycle_judge_completed');
    const failed = events.events.find((e: { type: string }) => e.type === 'draft_cycle_failed');
    expect(failed.payload).toMatchObject({ failedRole: 'maker' });
    const status = (await adminRequest(t, 'GET', `${S}/${body.sessionId}/status`)).json().status;
    expect(status).toMatchObject({
      status: 'closed',
      cycleFailedCount: 1,
      failedStepCount: 1,
      health: 'attention',
    });
  });
});

describe('orchestration flag', () => {
  it('AGENT_ORCHESTRATION_ENABLED=false → 503 AGENT_ORCHESTRATION_DISABLED before anything else', async () => {
    const t = await startTestGateway({ env: { AGENT_ORCHESTRATION_ENABLED: 'false' } });
    try {
      const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', {
        draftId: '00000000-0000-4000-8000-000000000000',
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toBe('AGENT_ORCHESTRATION_DISABLED');
    } finally {
      await t.close();
    }
  });
});
