import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; runbook: string };
}

describe('docs/ops/observability-runbook.md alert rules', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  it('parse as a Prometheus rule file and reference only metrics the gateway exposes', async () => {
    const doc = await readFile(new URL('../../docs/ops/observability-runbook.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const rules = (parse(block!) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    expect(rules.map((r) => r.alert)).toEqual([
      'AgentGatewayRolesBlocked',
      'AgentGatewayProviderPoolCooling',
      'AgentGatewayStaleActiveSessions',
      'AgentGatewayOrchestrateUnavailable',
      'AgentGatewayRuntimeSuccessLow',
      'AgentGatewayIngestRejections',
    ]);
    const exposition = (await t.gateway.app.inject({ method: 'GET', url: '/metrics' })).body;
    const declared = new Set<string>();
    for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = match;
      declared.add(name!);
      if (type === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) declared.add(`${name}${suffix}`);
    }
    for (const rule of rules) {
      expect(rule.labels.severity, rule.alert).toMatch(/^(critical|warning)$/);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.annotations.summary.length, rule.alert).toBeGreaterThan(10);
      const referenced = rule.expr.match(/\bagw_[a-z_]+/g) ?? [];
      expect(referenced.length, rule.alert).toBeGreaterThan(0);
      for (const metric of referenced) expect(declared.has(metric), `${rule.alert}: ${metric}`).toBe(true);
      // Label matchers must use labels the metric has.
      for (const [, metric, matchers] of rule.expr.matchAll(/\b(agw_[a-z_]+)\{([^}]*)\}/g)) {
        const labels = [...matchers!.matchAll(/([a-z_]+)=/g)].map((m) => m[1]);
        const help = exposition.includes(`# TYPE ${metric!.replace(/_(count|bucket|sum)$/, '')} `);
        expect(help, metric).toBe(true);
        for (const label of labels)
          expect([
            'route',
            'status_class',
            'status',
            'outcome',
            'connector',
            'method',
            'provider',
            'role',
            'code',
          ]).toContain(label);
      }
    }
  });
});
