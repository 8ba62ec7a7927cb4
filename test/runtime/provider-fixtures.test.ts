import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKind } from '../../src/providers/provider.js';
import { createProviderRegistry } from '../../src/providers/provider-registry.js';
import { UpstreamClient } from '../../src/providers/upstream-client.js';
import { systemClock } from '../../src/runtime/clock.js';

interface Fixture {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  raw?: string;
  expect: Record<string, unknown>;
}

const root = new URL('../fixtures/providers/', import.meta.url);
const kinds = ['openai', 'anthropic', 'gemini', 'http'] as const;
const fixtures = kinds.flatMap((kind) =>
  readdirSync(new URL(`${kind}/`, root))
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      kind,
      file,
      fixture: JSON.parse(readFileSync(new URL(`${kind}/${file}`, root), 'utf8')) as Fixture,
    })),
);

// Recorded vendor response bodies (modelled on each vendor's documented examples) served by a real local server.
let current: Fixture | undefined;
let server: Server;
let base: string;
const client = new UpstreamClient({ httpTimeoutMs: 5000 });
const adapters = createProviderRegistry({ client, sleep: systemClock.sleep });

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const f = current!;
      const payload = f.raw ?? JSON.stringify(f.body);
      res.writeHead(f.status, { 'content-type': f.raw ? 'text/html' : 'application/json', ...f.headers });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('providers read recorded vendor responses', () => {
  it('has fixtures for every network kind', () => {
    for (const kind of kinds)
      expect(fixtures.filter((f) => f.kind === kind).length).toBeGreaterThanOrEqual(5);
  });

  it.each(fixtures.map((f) => [`${f.kind}/${f.file}`, f] as const))(
    '%s',
    async (_name, { kind, fixture }) => {
      current = fixture;
      const endpoint = kind === 'openai' ? `${base}/v1` : kind === 'http' ? `${base}/run` : base;
      const outcome = await adapters[kind as ProviderKind]
        .complete(
          {
            provider: kind,
            profile: 'default',
            kind,
            model: 'configured-model',
            endpoint,
            apiKey: 'sk-fixture',
          },
          { role: 'critic', messages: [{ role: 'user', content: 'hi' }], signal: AbortSignal.timeout(5000) },
        )
        .then(
          (reply) => ({ ok: true as const, reply }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      if ('output' in fixture.expect) {
        if (!outcome.ok) throw outcome.error;
        expect(outcome.reply.output).toBe(fixture.expect.output);
        expect(outcome.reply.usage).toEqual(fixture.expect.usage);
        expect(outcome.reply.model).toBe(fixture.expect.model ?? 'configured-model');
      } else {
        expect(outcome.ok).toBe(false);
        expect(outcome.ok ? null : outcome.error).toMatchObject(fixture.expect);
      }
    },
  );
});
