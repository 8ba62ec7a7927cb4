import { type CliIo, EXIT, GatewayClient, parseFlags, remoteOptions } from '../cli-context.js';

/** `agw health`: /health, /ready and the runtime summary in one look; exit 1 unless all are healthy. */
export async function healthCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, remoteOptions);
  const client = GatewayClient.from(values, io.env);
  const [health, ready, runtime] = await Promise.all([
    client.request('GET', '/health'),
    client.request('GET', '/ready'),
    client.request('GET', '/api/admin/ai-runtime/health'),
  ]);
  const runtimeSummary =
    runtime.status === 200 ? ((runtime.body as { summary?: Record<string, unknown> }).summary ?? null) : null;
  const ok =
    health.status === 200 &&
    ready.status === 200 &&
    (runtime.status === 404 || runtimeSummary?.health === 'ok');
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          ok,
          health: health.body,
          ready: ready.body,
          runtime: runtime.status === 200 ? runtime.body : { status: runtime.status, body: runtime.body },
        },
        null,
        2,
      ),
    );
    return ok ? EXIT.ok : EXIT.failed;
  }
  const h = health.body as { status?: string; version?: string; uptimeSec?: number };
  io.out(
    `health   ${health.status} ${h?.status ?? '?'} (version ${h?.version ?? '?'}, up ${h?.uptimeSec ?? '?'} s)`,
  );
  const r = ready.body as Record<string, string>;
  io.out(
    `ready    ${ready.status} ${r?.status ?? '?'} (db ${r?.db}, redis ${r?.redis}, migrations ${r?.migrations})`,
  );
  if (runtimeSummary) {
    const s = runtimeSummary;
    io.out(
      `runtime  ${s.health} (roles blocked ${s.rolesBlocked}, providers ready ${s.providersReady}/${s.providerCount}, ` +
        `cooling ${s.providersCoolingDown}, deterministic ${s.deterministicProviders})`,
    );
  } else if (runtime.status === 404) {
    io.out('runtime  not available on this gateway');
  } else {
    const body = runtime.body as { error?: string; message?: string } | null;
    io.out(`runtime  ${runtime.status} ${body?.error ?? ''} ${body?.message ?? ''}`.trimEnd());
  }
  io.out(ok ? 'OK' : 'NOT OK');
  return ok ? EXIT.ok : EXIT.failed;
}
