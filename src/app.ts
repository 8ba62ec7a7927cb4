import type { DestinationStream } from 'pino';
import { AuditStore } from './audit/audit-store.js';
import { ChannelWebhooks } from './channels/channel-webhooks.js';
import { MemoryRateLimiter, RedisRateLimiter } from './channels/connector-rate-limiter.js';
import { ingestSettingsFromConfig } from './channels/ingest-config.js';
import { IngestCounters, UNKNOWN_CONNECTOR } from './channels/ingest-counters.js';
import { IngestPipeline } from './channels/ingest-pipeline.js';
import { ingestTelemetry } from './channels/ingest-telemetry.js';
import { OUTBOX_QUEUE, type OutboxJob, outboxAppendHook, ReplyOutbox } from './channels/reply-outbox.js';
import { MemorySignatureBindings, RedisSignatureBindings } from './channels/signature-bindings.js';
import { isClusterWorker, shareMetricsWithPrimary } from './cluster/worker-link.js';
import { type AdminTokenDefinition, adminScopes, sha256 } from './config/admin-tokens.js';
import { loadOrCreateAdminToken } from './config/generated-admin-token.js';
import type { Config } from './config/settings.js';
import type { Database } from './db/database.js';
import { runMigrations } from './db/migrate.js';
import { openDatabase } from './db/open-database.js';
import { Readiness } from './health/readiness.js';
import { createRedisClient } from './health/redis-client.js';
import { AdminAuth } from './http/admin-auth.js';
import { ConsoleAssets } from './http/console-assets.js';
import { GatewayApiAuth } from './http/gateway-api-auth.js';
import { registerAdminRoutes } from './http/routes/admin-routes.js';
import { registerConsoleRoutes } from './http/routes/console-routes.js';
import { registerDraftRoutes } from './http/routes/draft-routes.js';
import { registerHealthRoutes } from './http/routes/health-routes.js';
import { registerIngestRoutes } from './http/routes/ingest-routes.js';
import { registerOpenAiRoutes } from './http/routes/openai-routes.js';
import { registerRuntimeRoutes } from './http/routes/runtime-routes.js';
import { registerSessionRoutes } from './http/routes/session-routes.js';
import { registerStreamRoutes } from './http/routes/stream-routes.js';
import { registerMetricsRoute, registerTelemetryRoutes } from './http/routes/telemetry-routes.js';
import { type AppServer, createServer, type RouteSummary } from './http/server.js';
import { JobQueue } from './jobs/job-queue.js';
import { jobQueues } from './jobs/queues.js';
import { ChatCompletions } from './openai-compat/chat-completions.js';
import { DRAFT_CYCLE_QUEUE, DraftCycle } from './orchestration/draft-cycle.js';
import { LocalRuns, Orchestrator } from './orchestration/orchestrator.js';
import {
  asksForReply,
  REPLY_QUEUE,
  type ReplyJob,
  ReplyWorker,
  replyAppendHook,
} from './orchestration/reply-worker.js';
import { RunCommitBatcher } from './orchestration/run-commit-batcher.js';
import { SWEEPER_QUEUE, Sweeper } from './orchestration/sweeper.js';
import { AiRuntime } from './runtime/ai-runtime.js';
import type { Clock } from './runtime/clock.js';
import { loadRuntimeDefinition } from './runtime/runtime-config.js';
import { SessionCache } from './sessions/session-cache.js';
import { SessionEventBus } from './sessions/session-event-bus.js';
import { SessionService } from './sessions/session-service.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { TelemetryRollupFolder } from './telemetry/rollup-folder.js';
import { TelemetryService } from './telemetry/telemetry-service.js';
import { activeAndStale } from './telemetry/telemetry-store.js';
import { Tracing } from './telemetry/tracing.js';
import { version } from './version.js';

export interface GatewayOptions {
  config: Config;
  /** An already open database (tests); otherwise one is opened from config and closed with the gateway. */
  database?: Database;
  logStream?: DestinationStream;
  /** Virtual time for the AI runtime (tests of cooldowns over real HTTP); the system clock otherwise. */
  clock?: Clock;
  /** Told when this process starts applying migrations (holding the lock) and when they are done (cluster workers). */
  migrations?: { applying(): void; done(): void };
}

export interface Gateway {
  app: AppServer;
  config: Config;
  database: Database;
  sessions: SessionService;
  orchestrator: Orchestrator;
  sweeper: Sweeper;
  jobs: JobQueue;
  /** The AI runtime: role runs, circuits, health, dry-run. */
  runtime: AiRuntime;
  /** Telemetry and adapters snapshots. */
  telemetry: TelemetryService;
  /** Prometheus metrics (also incremented by ingest and /v1). */
  metrics: GatewayMetrics;
  /** Signed ingest and native webhooks (SPEC §7). */
  ingest: IngestPipeline;
  /** Every registered route with its admin scope. */
  routes: RouteSummary[];
  /** Whether `GET /admin` can serve the console (its assets are built into `dist/console`). */
  readonly consoleAvailable: boolean;
  /** The generated admin token in embedded mode, so the start banner can print it. */
  generatedAdminToken?: { token: string; path: string; created: boolean };
  listen(): Promise<string>;
  close(): Promise<void>;
}

function adminTokens(config: Config, generated: string | undefined): AdminTokenDefinition[] {
  const tokens: AdminTokenDefinition[] = [];
  const primary = config.adminApiToken ?? generated;
  if (primary) tokens.push({ id: 'default', sha256: sha256(primary), scopes: [...adminScopes] });
  for (const token of config.adminApiTokens) {
    if (token.id === 'default' && primary)
      throw new Error('ADMIN_API_TOKENS: id "default" is taken by ADMIN_API_TOKEN');
    tokens.push(token);
  }
  return tokens;
}

/** Composition root: builds every service with its dependencies, in plain view. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const startedAt = Date.now();
  const opened = options.database
    ? { database: options.database, close: async () => undefined }
    : await openDatabase(config);
  const { database } = opened;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    await runMigrations(database, options.migrations?.applying);
    options.migrations?.done();
    const generated =
      !config.databaseUrl && !config.adminApiToken && config.adminApiTokens.length === 0 && !options.database
        ? loadOrCreateAdminToken(config.dataDir)
        : undefined;
    const auth = new AdminAuth(adminTokens(config, generated?.token));
    const audit = new AuditStore(database);
    const routes: RouteSummary[] = [];
    const app = await createServer({
      routes,
      version,
      bodyLimitBytes: config.bodyLimitBytes,
      logLevel: config.logLevel,
      logStream: options.logStream,
      auth,
      audit,
    });
    cleanups.push(() => app.close());
    let runtimeForMetrics: AiRuntime | undefined;
    const metrics = new GatewayMetrics({
      runtimeHealth: async () =>
        runtimeForMetrics ? runtimeForMetrics.health() : { roleStates: [], providers: [] },
      sessionGauges: () => activeAndStale(database.orm, config.staleMinutes),
      onCollectError: (what, error) =>
        app.log.warn(
          { err: { message: (error as Error).message }, metric: what },
          'metric collection failed',
        ),
    });
    if (isClusterWorker) shareMetricsWithPrimary(metrics.registry);
    const tracing = Tracing.start({ endpoint: config.otelEndpoint, serviceVersion: version });
    cleanups.push(() => tracing.shutdown());
    if (tracing.enabled) {
      app.addHook('onRequest', async (request) => {
        tracing.requestStarted(request, request.method, request.routeOptions.url ?? 'unmatched');
      });
      app.addHook('onResponse', async (request, reply) => tracing.requestFinished(request, reply.statusCode));
    }
    // Route templates only (bounded labels); a request that matched no route is "unmatched".
    app.addHook('onResponse', async (request, reply) => {
      metrics.recordHttp(
        request.routeOptions.url ?? 'unmatched',
        request.method,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
    });
    registerMetricsRoute(app, metrics, config.metricsToken);
    const redis = config.redisUrl ? createRedisClient(config.redisUrl, app.log) : undefined;
    if (redis) {
      cleanups.push(async () => void (await redis.quit().catch(() => redis.disconnect())));
      // Commands fail fast while disconnected; give the first connection a moment so startup is not degraded.
      if (!(await redis.connectedWithin(2000)))
        app.log.warn('redis not reachable at startup; circuits and rate limits use local state until it is');
    }
    const sessions = new SessionService({
      database,
      cache: new SessionCache(config.memoryCacheSize),
      staleMinutes: config.staleMinutes,
      autoCompactTrigger: config.autoCompactTrigger,
      autoCompactKeepRecent: config.autoCompactKeepRecent,
    });
    const readiness = new Readiness(database, redis ? { ping: (ms) => redis.pingWithin(ms) } : undefined, {
      timeoutMs: 1000,
      cacheMs: 1000,
    });
    registerHealthRoutes(app, { version, startedAt, readiness });
    registerSessionRoutes(app, sessions);
    registerAdminRoutes(app, audit);
    const runtime = new AiRuntime({
      definition: loadRuntimeDefinition(config),
      redis,
      logger: app.log,
      onCircuitStoreFallback: () => metrics.sharedStateFallbacks.inc({ store: 'circuits' }),
      ...(options.clock ? { clock: options.clock } : {}),
      // Dry runs never touch circuits; they stay out of the attempt metrics too.
      onAttempt: (role, attempt, context) => {
        if (!context.dryRun) metrics.recordAttempt(role, attempt, context.cancelled);
        tracing.attempt(role, attempt, context.cancelled);
      },
      wrapRun: tracing.enabled ? (role, dryRun, run) => tracing.roleRun(role, dryRun, run) : undefined,
    });
    runtimeForMetrics = runtime;
    cleanups.push(() => runtime.close());
    registerRuntimeRoutes(app, runtime);
    registerOpenAiRoutes(app, {
      chat: new ChatCompletions(runtime),
      auth: new GatewayApiAuth(config.gatewayApiKeys),
    });

    const bus = new SessionEventBus(database);
    await bus.start();
    cleanups.push(() => bus.stop());
    const jobs = await JobQueue.start(database, app.log, jobQueues);
    cleanups.push(() => jobs.stop());
    const replyHook = replyAppendHook(jobs, config.replyTypes);
    const outboxHook = outboxAppendHook(jobs, config.channelConnectors);
    const wantsReply = asksForReply(config.replyTypes);
    sessions.setAppendHook(
      async (tx, event, session) => {
        await replyHook(tx, event, session);
        await outboxHook(tx, event, session);
      },
      // Which events the hooks act on (writers that bypass `append` must route these through it).
      (event) => wantsReply(event) || event.type === 'agent_reply',
    );
    const cycle = new DraftCycle({
      database,
      sessions,
      runtime,
      commits: new RunCommitBatcher(database),
      leaseSeconds: config.runLeaseSeconds,
      onFinished: (_run, status) => metrics.orchestrationRuns.inc({ status }),
      requeue: async (runId, delaySeconds) =>
        void (await jobs.send(DRAFT_CYCLE_QUEUE, { runId }, { startAfterSeconds: delaySeconds })),
    });
    const localRuns = new LocalRuns({
      limit: config.workerConcurrency,
      leaseSeconds: config.runLeaseSeconds,
      execute: (runId, claimed, early) => cycle.runLocal(runId, claimed, early),
      begin: (ctx) => cycle.beginFirstStep(ctx),
      jobs,
      onError: (runId, error) =>
        app.log.warn(
          // A failed query's own message carries the statement and its parameters; log the database's reason.
          {
            err: {
              message: ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message,
            },
            runId,
          },
          'run failed in this replica; its job will resume it',
        ),
    });
    const replies = new ReplyWorker({
      database,
      sessions,
      runtime,
      contextEvents: config.replyContextEvents,
    });
    const sweeper = new Sweeper(
      { database, sessions, jobs },
      {
        idleCloseMinutes: config.idleCloseMinutes,
        archiveRetentionDays: config.archiveRetentionDays,
        staleRunMinutes: config.staleRunMinutes,
      },
    );
    // A run's backstop job is deferred by one lease, and a retried job by its retry delay: neither sends a
    // notification when it comes due, so without a short poll a crashed replica's runs wait ~30 s more.
    await jobs.work<{ runId: string }>(
      DRAFT_CYCLE_QUEUE,
      config.workerConcurrency,
      (job) => cycle.runFromJob(job.data.runId),
      { deferredPollSeconds: 2 },
    );
    await jobs.work<ReplyJob>(REPLY_QUEUE, config.workerConcurrency, (job) => replies.handle(job.data));
    await jobs.work(SWEEPER_QUEUE, 1, async () => {
      const report = await sweeper.sweep();
      if (report.closedIdle || report.purgedArchived || report.requeuedRuns)
        app.log.info({ sweep: report }, 'sweeper acted');
    });
    await jobs.schedule(SWEEPER_QUEUE, config.sweeperCron);
    const orchestrator = new Orchestrator({
      database,
      sessions,
      jobs,
      bus,
      enabled: config.orchestrationEnabled,
      local: localRuns,
      onStarted: () => metrics.orchestrationRuns.inc({ status: 'started' }),
    });
    registerDraftRoutes(app, { database, orchestrator, defaultWaitMs: config.defaultWaitMs });
    registerStreamRoutes(app, { database, sessions, bus });

    // --- Ingest (SPEC §7): signed endpoint, native webhooks, replies back to channels ---
    const ingestSettings = ingestSettingsFromConfig(config);
    const ingestCounters = new IngestCounters({
      database,
      // Metric labels: configured connectors only (a connector id is the sender's claim), everything else `_other`.
      onRecord: (connectorId, outcome, code) =>
        metrics.ingestRequests.inc({
          connector:
            ingestSettings.knownConnectors.has(connectorId) || connectorId === UNKNOWN_CONNECTOR
              ? connectorId
              : '_other',
          outcome,
          code,
        }),
      onError: (error) =>
        app.log.warn({ err: { message: (error as Error).message } }, 'ingest counter flush failed'),
    });
    ingestCounters.start();
    cleanups.push(() => ingestCounters.stop());
    let lastRateLimitWarn = Number.NEGATIVE_INFINITY;
    const ingest = new IngestPipeline({
      database,
      sessions,
      // Up to 8 batch statements at once, leaving the pool two connections for everything else.
      commitsInFlight: Math.max(1, Math.min(8, config.databasePoolMax - 2)),
      onBackgroundError: (error) =>
        app.log.warn({ err: { message: (error as Error).message } }, 'ingest auto-compaction failed'),
      counters: ingestCounters,
      rateLimiter: redis
        ? new RedisRateLimiter(redis, {
            onError: (error) => {
              metrics.sharedStateFallbacks.inc({ store: 'rate_limits' });
              if (Date.now() - lastRateLimitWarn < 10_000) return;
              lastRateLimitWarn = Date.now();
              app.log.warn(
                { err: { message: (error as Error).message } },
                "ingest rate limit store unavailable; using this replica's local windows",
              );
            },
          })
        : new MemoryRateLimiter(),
      signatureBindings: redis
        ? new RedisSignatureBindings(redis, {
            onError: () => metrics.sharedStateFallbacks.inc({ store: 'signature_bindings' }),
          })
        : new MemorySignatureBindings(),
      settings: ingestSettings,
    });
    const outbox = new ReplyOutbox({
      database,
      sessions,
      jobs,
      connectors: config.channelConnectors,
      maxAttempts: config.outboxMaxAttempts,
      logger: app.log,
    });
    await jobs.work<OutboxJob>(OUTBOX_QUEUE, config.workerConcurrency, (job) => outbox.handle(job.data), {
      deferredPollSeconds: 2,
    });
    await registerIngestRoutes(app, {
      pipeline: ingest,
      webhooks: new ChannelWebhooks({ pipeline: ingest, connectors: config.channelConnectors }),
      maxBodyBytes: config.ingestMaxBodyBytes,
    });
    // --- end Ingest ---
    const telemetry = new TelemetryService({ database, staleMinutes: config.staleMinutes });
    const rollupFolder = new TelemetryRollupFolder({
      database,
      onError: (error) =>
        app.log.warn({ err: { message: (error as Error).message } }, 'telemetry roll-up fold failed'),
    });
    rollupFolder.start();
    cleanups.push(() => rollupFolder.stop());
    telemetry.setIngestSource(
      ingestTelemetry({
        database,
        profiles: config.ingestConnectorProfiles,
        policies: config.ingestConnectorPolicies,
        enforceProfiles: config.ingestEnforceConnectorProfile,
      }),
    );
    registerTelemetryRoutes(app, telemetry);
    const consoleAssets = new ConsoleAssets();
    registerConsoleRoutes(app, consoleAssets);
    await app.ready();

    let closing: Promise<void> | undefined;
    return {
      app,
      config,
      database,
      sessions,
      orchestrator,
      sweeper,
      jobs,
      runtime,
      telemetry,
      metrics,
      ingest,
      routes,
      generatedAdminToken: generated,
      get consoleAvailable() {
        return consoleAssets.available;
      },
      async listen() {
        return app.listen({ host: config.host, port: config.port });
      },
      close() {
        // HTTP first (stop accepting, finish in-flight, end live streams), then workers, listeners and pools.
        closing ??= (async () => {
          await app.close();
          for (const cleanup of cleanups.reverse())
            await cleanup().catch((error) => app.log.warn({ err: error }, 'close step failed'));
          await opened.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await opened.close().catch(() => undefined);
    throw error;
  }
}
