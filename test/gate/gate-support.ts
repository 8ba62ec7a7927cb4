import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

export const WEBHOOK_SECRET = 'gate-webhook-secret-0123456789abcdef';

/** The example profiles of docs/ops (telegram_main, slack_main, discord_main, launch_probe). */
export const exampleProfiles = readFileSync(
  new URL('../../docs/ops/examples/agent-gateway-ingest-connector-profiles.example.json', import.meta.url),
  'utf8',
);

/** A listening test gateway with the gate's webhook secret and the example connector profiles. */
export function startGateTarget(env: Record<string, string> = {}): Promise<TestGateway> {
  return startTestGateway({
    listen: true,
    env: {
      AGENT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES: exampleProfiles,
      ...env,
    },
  });
}

export interface GateRun {
  code: number;
  stdout: string;
  stderr: string;
  outDir: string;
  summary: GateSummaryView;
  traces: { channels: TraceView[] };
}

export interface TraceView {
  channel: string;
  connectorId: string;
  pass: boolean;
  failureMode: string | null;
  routing: { firstActions: string; escalateTo: string } | null;
  expectedExternalSessionId: string;
  resolvedExternalSessionId: string | null;
  steps: Record<string, Record<string, unknown>>;
}

export interface GateSummaryView {
  pass: boolean;
  status: string;
  config: Record<string, unknown>;
  checks: Record<
    string,
    Record<string, unknown> & {
      pass: boolean;
      skipped: boolean;
      errors: string[];
      details: Record<string, unknown>;
    }
  >;
  hardStop: { triggered: boolean; message: string | null };
}

/** Runs `agw gate` through the CLI dispatcher (real HTTP to the gateway) with only the given environment. */
export async function runGate(args: string[], env: Record<string, string> = {}): Promise<GateRun> {
  const outDir = mkdtempSync(join(tmpdir(), 'agw-gate-'));
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['gate', '--out-dir', outDir, ...args], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
  });
  const read = (name: string) => JSON.parse(readFileSync(join(outDir, name), 'utf8'));
  return {
    code,
    stdout: out.join('\n'),
    stderr: err.join('\n'),
    outDir,
    summary: read('production-launch-gate-summary.json'),
    traces: read('production-agent-gateway-external-channel-traces.json'),
  };
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats.default(ajv);
const schema = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(new URL(`../../docs/ops/schemas/${name}`, import.meta.url), 'utf8')));
const validateSummary = schema('production-launch-gate-summary.schema.json');
const validateTraces = schema('production-agent-gateway-external-channel-traces.schema.json');

/** Both artifacts conform to their JSON Schemas in docs/ops/schemas. */
export function expectValidArtifacts(run: GateRun): void {
  expect(validateSummary(run.summary), JSON.stringify(validateSummary.errors)).toBe(true);
  expect(validateTraces(run.traces), JSON.stringify(validateTraces.errors)).toBe(true);
}

export { validateSummary, validateTraces };

/**
 * A path-routing reverse proxy (a real HTTP server, like an ingress in front of several replicas): each request
 * goes to the base URL `route` picks for its path.
 */
export async function startRouteProxy(
  route: (path: string) => string,
  /** Answer this status itself instead of forwarding (a flaky load balancer), or null to forward. */
  intercept: (path: string) => number | null = () => null,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const status = intercept(req.url ?? '/');
    if (status !== null) {
      req.resume();
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<html><body>${status} from the load balancer</body></html>`);
      return;
    }
    const target = new URL(req.url ?? '/', route(req.url ?? '/'));
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'BAD_GATEWAY', message: 'upstream unreachable' }));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
