/**
 * Environment variables of the release launch gate (`agw gate`, SPEC §11). They configure the CLI on the machine
 * that runs the gate, not the gateway; listed here so `docs/configuration.md` documents them with the rest.
 */
export const releaseGateVariables: readonly { env: string; flag: string; description: string }[] = [
  {
    env: 'RELEASE_API_BASE_URL',
    flag: '--api-base-url',
    description: 'Base URL of the deployment to gate (falls back to `API_BASE_URL`). Required.',
  },
  {
    env: 'RELEASE_ADMIN_API_TOKEN',
    flag: '--admin-token',
    description:
      'Admin token with the `operate` scope (dry-run, orchestration probe, closing probe sessions); falls back to `ADMIN_API_TOKEN`. Required; never printed or written to the artifacts.',
  },
  {
    env: 'RELEASE_AGENT_GATEWAY_WEBHOOK_SECRET',
    flag: '--webhook-secret',
    description:
      'Ingest webhook secret the probes sign with (the deployment’s `AGENT_GATEWAY_WEBHOOK_SECRET`). Without it the ingest probes are skipped (a failure in strict mode or when channels are required).',
  },
  {
    env: 'RELEASE_REQUIRED_EXTERNAL_CHANNELS',
    flag: '--required-external-channels',
    description: '`telegram,slack,discord` or `all`: channels whose fallback probe must pass. Default none.',
  },
  {
    env: 'RELEASE_GATE_HISTORY_FILE',
    flag: '--history',
    description:
      'JSON file keeping the last 20 runs: a strict run whose required channels fail right after a strict run whose required channels failed exits 1 with "PAUSE ROLLOUT"; stale active sessions more than doubling (by 10 or more) since the previous run fail the sessions check.',
  },
];

/** The docs section for these variables. */
export function renderReleaseGateDocs(): string {
  return [
    '## Release launch gate (`agw gate`)',
    '',
    'Read by `agw gate` on the machine that runs it (a CI job, an operator laptop), not by the gateway. A flag wins',
    'over its variable; every flag is described in `docs/ops/release-runbook.md`.',
    '',
    '| Variable | Flag | Description |',
    '| --- | --- | --- |',
    ...releaseGateVariables.map((v) => `| \`${v.env}\` | \`${v.flag}\` | ${v.description} |`),
    '',
  ].join('\n');
}
