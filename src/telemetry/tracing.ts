import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RoleRunResult, RunAttempt } from '../runtime/chain-runner.js';

/**
 * OpenTelemetry traces (SPEC §9): a span per HTTP request, per role run and per provider attempt, with GenAI
 * semantic-convention attributes, exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Without it
 * nothing is created: every hook returns at its first line. The provider is not registered globally (several
 * gateways may share a process in tests); parentage goes through this module's own async-local span.
 */
export class Tracing {
  private readonly current = new AsyncLocalStorage<Span>();
  private readonly requests = new WeakMap<object, Span>();

  private constructor(
    private readonly tracer: Tracer | undefined,
    private readonly provider: BasicTracerProvider | undefined,
  ) {}

  static start(options: { endpoint?: string; serviceVersion: string }): Tracing {
    if (!options.endpoint) return new Tracing(undefined, undefined);
    const base = options.endpoint.replace(/\/+$/, '');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'agent-gateway',
        'service.version': options.serviceVersion,
      }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }), {
          scheduledDelayMillis: 1000,
        }),
      ],
    });
    return new Tracing(provider.getTracer('agent-gateway', options.serviceVersion), provider);
  }

  get enabled(): boolean {
    return this.tracer !== undefined;
  }

  private parent() {
    const span = this.current.getStore();
    return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
  }

  /** Fastify onRequest: opens the request span and makes it the parent of what the request does. */
  requestStarted(request: object, method: string, route: string): void {
    if (!this.tracer) return;
    const span = this.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route } },
      ROOT_CONTEXT,
    );
    this.requests.set(request, span);
    this.current.enterWith(span);
  }

  requestFinished(request: object, status: number): void {
    const span = this.tracer ? this.requests.get(request) : undefined;
    if (!span) return;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /**
   * Wraps one role run (orchestration step, reply, dry-run) in an `invoke_agent` span. A `/v1` call is a proxied chat,
   * not an agent run: its attempts' `chat` spans hang directly under its HTTP span.
   */
  async roleRun(role: string, dryRun: boolean, run: () => Promise<RoleRunResult>): Promise<RoleRunResult> {
    if (!this.tracer) return run();
    const span = this.tracer.startSpan(
      `invoke_agent ${role}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': role,
          'agw.dry_run': dryRun,
        },
      },
      this.parent(),
    );
    try {
      const result = await this.current.run(span, run);
      const usage = result.usage as { inputTokens?: number; outputTokens?: number } | null;
      const attributes: Attributes = { 'agw.failed': result.failed, 'agw.attempts': result.attempts.length };
      if (result.selectedProvider) attributes['gen_ai.provider.name'] = result.selectedProvider;
      if (result.selectedModel) attributes['gen_ai.response.model'] = result.selectedModel;
      if (typeof usage?.inputTokens === 'number') attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
      if (typeof usage?.outputTokens === 'number')
        attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
      span.setAttributes(attributes);
      if (result.failed)
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'every provider in the chain failed' });
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  /** One provider attempt as a `chat` span under the role run (its timing rebuilt from the attempt's latency). */
  attempt(role: string | null, attempt: RunAttempt, cancelled = false): void {
    if (!this.tracer) return;
    const end = Date.now();
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': attempt.provider,
      'gen_ai.request.model': attempt.model,
      'agw.auth_profile': attempt.authProfile,
      'agw.attempt.status': cancelled ? 'cancelled' : attempt.status,
      'agw.provider.mode': attempt.mode,
    };
    if (role) attributes['gen_ai.agent.name'] = role;
    if (attempt.status === 'success') attributes['gen_ai.response.model'] = attempt.model;
    if (attempt.errorCode && !cancelled) attributes['error.type'] = attempt.errorCode;
    if (attempt.httpStatus !== null) attributes['http.response.status_code'] = attempt.httpStatus;
    const span = this.tracer.startSpan(
      `chat ${attempt.model}`,
      { kind: SpanKind.CLIENT, attributes, startTime: end - (attempt.latencyMs ?? 0) },
      this.parent(),
    );
    if (attempt.status === 'failed' && !cancelled)
      span.setStatus({ code: SpanStatusCode.ERROR, message: attempt.errorCode ?? '' });
    span.end(end);
  }

  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}
