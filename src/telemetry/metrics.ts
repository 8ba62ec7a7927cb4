import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RunAttempt } from '../runtime/chain-runner.js';
import type { Role } from '../runtime/roles.js';

/** What the scrape-time gauges read: the runtime's circuits and the sessions table. */
export interface MetricSources {
  runtimeHealth(): Promise<{
    roleStates: { hasAvailableProvider: boolean }[];
    providers: { provider: string; coolingDown: boolean; profiles: { profile: string; circuit: string }[] }[];
  }>;
  sessionGauges(): Promise<{ active: number; stale: number }>;
  onCollectError(what: string, error: unknown): void;
}

const circuitValue: Record<string, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Prometheus metrics (SPEC §9). Every label value comes from a bounded set: configured provider ids and profiles,
 * the four roles, attempt statuses, the error-code catalogue, configured connectors, route templates (never a raw
 * URL), run statuses. Session ids never become labels. Circuit, role and session gauges are read at scrape time.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly providerAttempts: Counter<'provider' | 'role' | 'status' | 'code'>;
  readonly providerLatency: Histogram<'provider' | 'role'>;
  readonly ingestRequests: Counter<'connector' | 'outcome' | 'code'>;
  readonly orchestrationRuns: Counter<'status'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status_class'>;
  readonly sharedStateFallbacks: Counter<'store'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    // Process health the soak test and alerts read: RSS, heap, event-loop lag percentiles (reset at each scrape), GC.
    collectDefaultMetrics({ register: this.registry });
    this.providerAttempts = new Counter({
      name: 'agw_provider_attempts_total',
      help: 'Provider attempts by provider, role, status (success|failed|skipped_cooldown|cancelled) and error code.',
      labelNames: ['provider', 'role', 'status', 'code'],
      registers,
    });
    this.providerLatency = new Histogram({
      name: 'agw_provider_latency_seconds',
      help: 'Latency of provider attempts that reached the provider.',
      labelNames: ['provider', 'role'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.sharedStateFallbacks = new Counter({
      name: 'agw_shared_state_fallbacks_total',
      help: "Operations on state shared through Redis that used this replica's local state instead (Redis unreachable), by store: circuits, rate_limits, signature_bindings.",
      labelNames: ['store'],
      registers,
    });
    this.ingestRequests = new Counter({
      name: 'agw_ingest_requests_total',
      help: 'Ingest requests by connector (configured ids; others are "unknown"), outcome and error code.',
      labelNames: ['connector', 'outcome', 'code'],
      registers,
    });
    this.orchestrationRuns = new Counter({
      name: 'agw_orchestration_runs_total',
      help: 'Draft-cycle runs by status: started, completed, failed.',
      labelNames: ['status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'agw_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });

    // Runtime gauges share one health read per scrape.
    let pending: ReturnType<MetricSources['runtimeHealth']> | undefined;
    const runtimeHealth = () => {
      pending ??= sources.runtimeHealth().finally(() => {
        pending = undefined;
      });
      return pending;
    };
    new Gauge({
      name: 'agw_provider_circuit_state',
      help: 'Circuit state per provider and auth profile: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider', 'profile'],
      registers,
      // Read from shared state (Redis circuits, the sessions table): every worker sees the same value.
      aggregator: 'first',
      async collect() {
        this.reset();
        try {
          for (const provider of (await runtimeHealth()).providers)
            for (const profile of provider.profiles)
              this.set(
                { provider: provider.provider, profile: profile.profile },
                circuitValue[profile.circuit] ?? 2,
              );
        } catch (error) {
          sources.onCollectError('agw_provider_circuit_state', error);
        }
      },
    });
    new Gauge({
      name: 'agw_roles_blocked',
      help: 'Roles with no available provider (every provider in the chain cooling down).',
      registers,
      // Read from shared state (Redis circuits, the sessions table): every worker sees the same value.
      aggregator: 'first',
      async collect() {
        try {
          this.set((await runtimeHealth()).roleStates.filter((r) => !r.hasAvailableProvider).length);
        } catch (error) {
          sources.onCollectError('agw_roles_blocked', error);
        }
      },
    });
    new Gauge({
      name: 'agw_providers_cooling_ratio',
      help: 'Share of configured providers cooling down (0..1).',
      registers,
      // Read from shared state (Redis circuits, the sessions table): every worker sees the same value.
      aggregator: 'first',
      async collect() {
        try {
          const { providers } = await runtimeHealth();
          this.set(
            providers.length === 0 ? 0 : providers.filter((p) => p.coolingDown).length / providers.length,
          );
        } catch (error) {
          sources.onCollectError('agw_providers_cooling_ratio', error);
        }
      },
    });
    let sessionsPending: ReturnType<MetricSources['sessionGauges']> | undefined;
    const sessionGauges = () => {
      sessionsPending ??= sources.sessionGauges().finally(() => {
        sessionsPending = undefined;
      });
      return sessionsPending;
    };
    new Gauge({
      name: 'agw_sessions_active',
      help: 'Active sessions.',
      registers,
      // Read from shared state (Redis circuits, the sessions table): every worker sees the same value.
      aggregator: 'first',
      async collect() {
        try {
          this.set((await sessionGauges()).active);
        } catch (error) {
          sources.onCollectError('agw_sessions_active', error);
        }
      },
    });
    new Gauge({
      name: 'agw_sessions_stale',
      help: 'Active sessions with no event for longer than AGENT_GATEWAY_STALE_MINUTES.',
      registers,
      // Read from shared state (Redis circuits, the sessions table): every worker sees the same value.
      aggregator: 'first',
      async collect() {
        try {
          this.set((await sessionGauges()).stale);
        } catch (error) {
          sources.onCollectError('agw_sessions_stale', error);
        }
      },
    });
  }

  /**
   * `role` is null for a /v1 call that names no role (label `none`). An attempt the caller cancelled is counted as
   * status `cancelled` (code `none`), not as a provider error, and its cut-short time stays out of the latency.
   */
  recordAttempt(role: Role | null, attempt: RunAttempt, cancelled = false): void {
    const roleLabel = role ?? 'none';
    this.providerAttempts.inc({
      provider: attempt.provider,
      role: roleLabel,
      status: cancelled ? 'cancelled' : attempt.status,
      code: cancelled ? 'none' : (attempt.errorCode ?? 'none'),
    });
    if (cancelled) return;
    if (attempt.latencyMs !== null && attempt.status !== 'skipped_cooldown')
      this.providerLatency.observe({ provider: attempt.provider, role: roleLabel }, attempt.latencyMs / 1000);
  }

  /** `route` must be the route template (e.g. `/api/admin/agent-gateway/sessions/:id`), or `unmatched`. */
  recordHttp(route: string, method: string, status: number, seconds: number): void {
    this.httpDuration.observe({ route, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
  }
}
