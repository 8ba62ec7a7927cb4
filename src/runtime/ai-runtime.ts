import type { Redis } from 'ioredis';
import type { DeterministicScript } from '../providers/deterministic/deterministic-adapter.js';
import type { ProviderAdapter, ProviderKind } from '../providers/provider.js';
import { createProviderRegistry } from '../providers/provider-registry.js';
import { UpstreamClient } from '../providers/upstream-client.js';
import type { AttemptAnswer, AttemptContext, ChainOutcome, ChainPlan, RunRoute } from './chain-plan.js';
import {
  type AttemptHookContext,
  ChainRunner,
  type RoleRunResult,
  type RunAttempt,
  type RunRoleRequest,
} from './chain-runner.js';
import { CircuitBreaker, type CircuitView } from './circuit-breaker.js';
import { type CircuitStore, MemoryCircuitStore } from './circuit-store.js';
import { type Clock, systemClock } from './clock.js';
import type { DryRunInput } from './dry-run-input.js';
import { healthSnapshot, providerStates } from './health-snapshot.js';
import { RedisCircuitStore } from './redis-circuit-store.js';
import { type Role, roles } from './roles.js';
import type { RuntimeDefinition } from './runtime-config.js';

/** How many default-upstream models' circuits profiles and health show (the most recently used). */
const maxTrackedRoutes = 100;

/** The circuit of one default-upstream model (one per auth profile), as profiles and health show it. */
export interface UpstreamModelState extends CircuitView {
  model: string;
  provider: string;
  profile: string;
}

export interface AiRuntimeOptions {
  definition: RuntimeDefinition;
  /** Shared circuits across replicas when given; otherwise in-process. */
  redis?: Redis;
  circuitStore?: CircuitStore;
  clock?: Clock;
  random?: () => number;
  /** Scripted deterministic behaviour (tests, benchmarks), keyed by provider or provider@profile. */
  deterministicScripts?: ReadonlyMap<string, DeterministicScript>;
  /** Replaces the adapters of some kinds (benchmarks compare a bare client). */
  adapters?: Partial<Record<ProviderKind, ProviderAdapter>>;
  onAttempt?: (role: Role | null, attempt: RunAttempt, context: AttemptHookContext) => void;
  /** Wraps every role run and dry run (tracing spans). */
  wrapRun?: (role: Role, dryRun: boolean, run: () => Promise<RoleRunResult>) => Promise<RoleRunResult>;
  /** Warned (at most every 10 s) when the circuit store fails and local circuits stand in. */
  logger?: { warn(obj: object, msg: string): void };
  /** Told about every circuit operation that fell back to local state (metrics). */
  onCircuitStoreFallback?: () => void;
}

/**
 * The AI runtime service: role runs through chains with circuits, the profiles and health snapshots, and dry-runs.
 * Built once by app.ts; routes, orchestration and /v1 call it.
 */
export class AiRuntime {
  readonly definition: RuntimeDefinition;
  readonly breaker: CircuitBreaker;
  readonly upstream: UpstreamClient;
  private readonly runner: ChainRunner;
  readonly clock: Clock;
  /**
   * Routes with a circuit of their own (a default-upstream model) are not in the configuration: the last
   * `maxTrackedRoutes` used are remembered so profiles and health can show their circuits.
   */
  private readonly trackedRoutes = new Map<string, RunRoute>();

  constructor(private readonly options: AiRuntimeOptions) {
    const { definition } = options;
    this.definition = definition;
    this.clock = options.clock ?? systemClock;
    const store =
      options.circuitStore ??
      (options.redis ? new RedisCircuitStore(options.redis) : new MemoryCircuitStore());
    this.breaker = new CircuitBreaker(store, this.clock, {
      cooldownMs: definition.settings.cooldownMs,
      probeLeaseMs: Math.max(2 * definition.settings.attemptTimeoutMs, 1000),
    });
    let lastWarn = Number.NEGATIVE_INFINITY;
    this.breaker.onStoreError = (error) => {
      options.onCircuitStoreFallback?.();
      if (Date.now() - lastWarn < 10_000) return;
      lastWarn = Date.now();
      options.logger?.warn(
        { err: { message: (error as Error)?.message } },
        "circuit store unavailable; using this replica's local circuits",
      );
    };
    this.upstream = new UpstreamClient({
      httpTimeoutMs: definition.settings.httpTimeoutMs,
      connectionsPerOrigin: definition.settings.upstreamConnections,
    });
    const adapters = {
      ...createProviderRegistry({
        client: this.upstream,
        sleep: (ms, signal) => this.clock.sleep(ms, signal),
        deterministicScripts: options.deterministicScripts,
      }),
      ...options.adapters,
    };
    this.runner = new ChainRunner({
      definition,
      adapters,
      gate: this.breaker,
      clock: this.clock,
      random: options.random ?? Math.random,
      onAttempt: options.onAttempt,
    });
  }

  /** Runs a prompt for a role through its chain (or `request.providers`), updating circuits. */
  runRole(request: RunRoleRequest): Promise<RoleRunResult> {
    const wrap = this.options.wrapRun;
    return wrap
      ? wrap(request.role, false, () => this.runner.runRole(request))
      : this.runner.runRole(request);
  }

  /** Runs explicit routes with the circuits, retries, deadline and attempt hook of role runs (`/v1`). */
  runChain<T>(
    plan: ChainPlan,
    invoke: (context: AttemptContext) => Promise<AttemptAnswer<T>>,
  ): Promise<ChainOutcome<T>> {
    for (const route of plan.routes) if (route.circuitId !== undefined) this.noteRoute(route);
    return this.runner.runChain(plan, invoke);
  }

  private noteRoute(route: RunRoute): void {
    const id = route.circuitId as string;
    this.trackedRoutes.delete(id);
    this.trackedRoutes.set(id, route);
    if (this.trackedRoutes.size > maxTrackedRoutes) {
      const oldest = this.trackedRoutes.keys().next().value;
      if (oldest !== undefined) this.trackedRoutes.delete(oldest);
    }
  }

  /** The circuits of the default-upstream models this process routed to recently, most recent first. */
  async upstreamModels(): Promise<UpstreamModelState[]> {
    const routes = [...this.trackedRoutes.values()].reverse();
    if (routes.length === 0) return [];
    const keys = routes.flatMap((route) =>
      route.provider.profiles.map((profile) => `${route.circuitId}@${profile.name}`),
    );
    const views = await this.breaker.views(keys);
    let index = 0;
    return routes.flatMap((route) =>
      route.provider.profiles.map((profile) => ({
        model: route.model ?? route.provider.model,
        provider: route.provider.id,
        profile: profile.name,
        ...(views[index++] as CircuitView),
      })),
    );
  }

  /** GET /api/admin/ai-runtime/profiles. */
  async profiles() {
    return {
      profiles: roles.map((role) => ({ role, providers: [...this.definition.chains[role]] })),
      providers: await providerStates(this.definition, this.breaker),
      upstreamModels: await this.upstreamModels(),
    };
  }

  /** GET /api/admin/ai-runtime/health. */
  async health() {
    const states = await providerStates(this.definition, this.breaker);
    const upstreamModels = await this.upstreamModels();
    return {
      ...healthSnapshot(this.definition, states, this.clock.now()),
      upstreamModels,
      circuitStore: this.breaker.store.kind,
      circuitStoreError: this.breaker.storeError,
      // Redis only: `live` = closed circuits are decided in process; `loading` = every call asks Redis meanwhile.
      circuitMirror: this.breaker.store.mirrorState?.() ?? null,
      httpAdapters: this.definition.settings.useHttpAdapters,
    };
  }

  /**
   * POST /api/admin/ai-runtime/dry-run: the same runner with a read-only circuit gate (circuits never change),
   * simulated failures, and network providers replaced by the deterministic adapter unless `live` is set.
   */
  async dryRun(input: DryRunInput) {
    const settings = this.definition.settings;
    const simulate = (provider: string, profile: string) => {
      const hit =
        input.simulateFailures.find((s) => s.provider === provider && s.profile === profile) ??
        input.simulateFailures.find((s) => s.provider === provider && s.profile === null);
      return hit ? { code: hit.code, latencyMs: hit.latencyMs } : undefined;
    };
    const run = () =>
      this.runner.runRole(
        {
          role: input.role,
          prompt: input.prompt,
          providers: input.providersOverride,
          deadlineMs: input.timeoutMs ?? settings.runDeadlineMs,
          attemptTimeoutMs: Math.min(settings.attemptTimeoutMs, input.timeoutMs ?? settings.attemptTimeoutMs),
        },
        { gate: this.breaker.readOnly(), simulate, deterministicOnly: !input.live, dryRun: true },
      );
    const result = this.options.wrapRun ? await this.options.wrapRun(input.role, true, run) : await run();
    const ids = input.providersOverride ?? [...this.definition.chains[input.role]];
    return {
      correlation: input.correlation,
      result: { ...result, dryRun: true, live: input.live },
      providers: await providerStates(this.definition, this.breaker, ids),
    };
  }

  async close(): Promise<void> {
    await this.upstream.close();
    await this.breaker.store.close?.();
  }
}
