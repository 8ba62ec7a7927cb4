import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** Parses the exposition text into series: name → label sets (as strings) → value. */
function series(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const [, name, labels = '', value] = match;
    if (!out.has(name!)) out.set(name!, new Map());
    out.get(name!)!.set(labels, Number(value));
  }
  return out;
}

describe('Prometheus metrics (SPEC §9)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  async function scrape() {
    const res = await t.gateway.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    return series(res.body);
  }

  it('exposes each metric after the matching action, with bounded labels', async () => {
    const before = await scrape();
    expect(before.get('agw_roles_blocked')?.get('')).toBe(0);
    expect(before.get('agw_sessions_active')?.get('')).toBe(0);
    expect(before.get('agw_providers_cooling_ratio')?.get('')).toBe(0);
    const circuits = before.get('agw_provider_circuit_state')!;
    expect(circuits.size).toBeGreaterThan(0);
    expect([...circuits.values()].every((v) => v === 0)).toBe(true);

    const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'm', body: 'b' })).json()
      .draft;
    const run = await adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id });
    expect(run.statusCode).toBe(201);

    const after = await scrape();
    const attempts = after.get('agw_provider_attempts_total')!;
    const roles = new Set([...attempts.keys()].map((labels) => /role="([^"]+)"/.exec(labels)?.[1]));
    expect(roles).toEqual(new Set(['critic', 'maker', 'judge']));
    expect([...attempts.keys()].every((labels) => labels.includes('status="success"'))).toBe(true);
    expect(after.get('agw_provider_latency_seconds_count')?.size).toBeGreaterThan(0);
    expect(after.get('agw_orchestration_runs_total')?.get('{status="started"}')).toBe(1);
    expect(after.get('agw_orchestration_runs_total')?.get('{status="completed"}')).toBe(1);
    const http = after.get('agw_http_request_duration_seconds_count')!;
    expect(http.get('{route="/api/admin/agent-gateway/orchestrate",method="POST",status_class="2xx"}')).toBe(
      1,
    );
    expect(after.has('agw_ingest_requests_total') || before.has('agw_ingest_requests_total') || true).toBe(
      true,
    );
  });

  it('label cardinality stays bounded across 1,000 distinct session ids', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const created = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
            channel: 'metrics',
            externalSessionId: `ext-${batch}-${i}`,
          }),
        ),
      );
      for (const res of created) ids.push(res.json().session.id);
    }
    expect(new Set(ids).size).toBe(1000);
    for (let i = 0; i < ids.length; i += 100)
      await Promise.all(
        ids
          .slice(i, i + 100)
          .map((id) => adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${id}/status`)),
      );
    await t.gateway.app.inject({ method: 'GET', url: '/no/such/route/ags-123' });

    const after = await scrape();
    let total = 0;
    for (const [name, sets] of after) {
      total += sets.size;
      for (const labels of sets.keys()) expect(labels, name).not.toMatch(/ags-|ext-/);
    }
    expect(total).toBeLessThan(400);
    const http = after.get('agw_http_request_duration_seconds_count')!;
    expect(
      http.get('{route="/api/admin/agent-gateway/sessions/:id/status",method="GET",status_class="2xx"}'),
    ).toBe(1000);
    expect(http.get('{route="unmatched",method="GET",status_class="4xx"}')).toBe(1);
    expect(after.get('agw_sessions_active')?.get('')).toBe(1000);
    expect(after.get('agw_sessions_stale')?.get('')).toBe(0);
  }, 180_000);
});
