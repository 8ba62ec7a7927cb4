import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { AppError, isAppError } from '../errors/app-error.js';
import { getEventById } from '../sessions/event-store.js';
import type { SessionEvent } from '../sessions/session-model.js';
import { sessionIdFor } from '../sessions/session-rules.js';
import type { SessionService } from '../sessions/session-service.js';
import type { ConnectorRateLimiter } from './connector-rate-limiter.js';
import { applyProfile, checkBudgets, type EffectivePolicy, effectivePolicy } from './connector-rules.js';
import { IngestCommitBatcher } from './ingest-batcher.js';
import type { IngestSettings } from './ingest-config.js';
import { type IngestCounters, type IngestOutcome, UNKNOWN_CONNECTOR } from './ingest-counters.js';
import {
  type IngestRequestInput,
  parseBodyObject,
  parseIngestBody,
  resolveConnectorId,
} from './ingest-input.js';
import { candidateSecrets, verifyIngestSignature } from './ingest-signature.js';
import { findIngestEvent } from './ingest-store.js';
import {
  type FallbackPlatform,
  fallbackExternalSessionId,
  platformOfChannel,
} from './session-id-fallback.js';
import type { SignatureBindings } from './signature-bindings.js';

export interface IngestPipelineDeps {
  database: Database;
  sessions: SessionService;
  counters: IngestCounters;
  rateLimiter: ConnectorRateLimiter;
  /** Where signatures of requests with header-only ids are bound to those ids (Redis when configured). */
  signatureBindings: SignatureBindings;
  settings: IngestSettings;
  now?: () => number;
  /** Told of failures after a request was answered (auto-compaction of a batched session). */
  onBackgroundError?: (error: unknown) => void;
  /** Commit batches in flight at once (each one statement on its own pooled connection); default 4. */
  commitsInFlight?: number;
}

/** What the endpoint answers: 201 when applied, 200 `deduplicated: true` on a replay. */
export interface IngestResult {
  applied: boolean;
  deduplicated: boolean;
  adapter: string;
  channel: string;
  connectorId: string;
  eventId: string;
  sessionId: string;
  externalSessionId: string | null;
  /** `body`, a fallback path such as `payload.message.chat.id`, or null when the session got a random id. */
  externalSessionIdSource: string | null;
  event: SessionEvent | null;
}

/** Extra context from a native platform adapter: its platform decides the fallback rules, its name the channel. */
export interface PlatformContext {
  platform: FallbackPlatform;
}

export interface SignedRequest {
  rawBody: Buffer | undefined;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
}

/** A body field left out (or null), so a header may have supplied it. */
const isAbsent = (value: unknown): boolean => value === undefined || value === null;

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * SPEC §7 ingest, in order: connector → allow-list → signature (raw bytes, constant time, before any database work)
 * → fields → profile → policy budgets → rate limit → session id → one transaction {dedup claim, session, event,
 * reply job}, shared with the requests in flight (group commit) → answer after commit. Every outcome is counted per connector and code.
 */
export class IngestPipeline {
  private readonly now: () => number;

  private readonly batcher: IngestCommitBatcher;

  constructor(private readonly deps: IngestPipelineDeps) {
    this.now = deps.now ?? Date.now;
    this.batcher = new IngestCommitBatcher(
      {
        database: deps.database,
        sessions: deps.sessions,
        ...(deps.onBackgroundError ? { onError: deps.onBackgroundError } : {}),
      },
      // 25 per batch: a full batch starts while the next requests are parsed (bench:ingest, 50 in flight: 25 did
      // 3,363–3,410 req/s against 2,657–2,983 with one batch of everything, 3,118 with 16 and 3,172 with 34).
      { maxInFlight: deps.commitsInFlight ?? 4, maxBatch: 25 },
    );
  }

  /** Group-commit counters (batches, requests, largest batch, fallbacks, single-statement batches). */
  get commitStats(): Readonly<IngestCommitBatcher['stats']> {
    return this.batcher.stats;
  }

  get settings(): IngestSettings {
    return this.deps.settings;
  }

  /** The generic signed endpoint. Throws AppErrors (counted as rejections) or returns the outcome. */
  async ingestSigned(request: SignedRequest): Promise<IngestResult> {
    let connectorId: string | undefined;
    let authenticated = false;
    try {
      const queryKeys = Object.keys(request.query ?? {});
      if (queryKeys.length > 0) {
        throw new AppError(
          'AGENT_GATEWAY_INGEST_INVALID_QUERY_FIELDS',
          `unknown query field(s) ${queryKeys.map((k) => `query.${k}`).join(', ')}; the endpoint takes none`,
          { details: { fields: queryKeys } },
        );
      }
      const headerConnector = header(request.headers, 'x-gateway-connector-id');
      // Only as much parsing as finding the connector needs: none when the header names it.
      const body = headerConnector ? undefined : parseBodyObject(request.rawBody);
      connectorId = resolveConnectorId(body?.connectorId, headerConnector);
      this.checkAllowed(connectorId);
      const policy = this.policyFor(connectorId);
      const secrets = candidateSecrets(
        this.deps.settings.secrets,
        connectorId,
        header(request.headers, 'x-gateway-key-id')?.trim() || undefined,
        policy.requireConnectorSecret,
      );
      const signature = verifyIngestSignature({
        secrets,
        signatureHeader: header(request.headers, 'x-gateway-signature'),
        timestampHeader: header(request.headers, 'x-gateway-timestamp'),
        rawBody: request.rawBody ?? Buffer.alloc(0),
        nowSec: Math.floor(this.now() / 1000),
        maxSkewSec: this.deps.settings.maxSkewSec,
      });
      authenticated = true;
      const fullBody = body ?? parseBodyObject(request.rawBody);
      // The header named the connector; a body value must agree with it.
      resolveConnectorId(fullBody.connectorId, headerConnector);
      const parsed = parseIngestBody(fullBody, connectorId, header(request.headers, 'x-idempotency-key'));
      if (isAbsent(fullBody.connectorId) || isAbsent(fullBody.eventId))
        await this.bindUnsignedIds(signature, parsed);
      return await this.accept(parsed, policy);
    } catch (error) {
      this.countRejection(connectorId, authenticated, error);
      throw error;
    }
  }

  /**
   * The connector or event id came from a header, which the signature does not cover: the signed bytes are bound to
   * the ids they first came with (for as long as the signature is valid), so a captured request cannot be replayed
   * as a new event or under another connector that shares the global secret.
   */
  private async bindUnsignedIds(signature: string, input: IngestRequestInput): Promise<void> {
    const ids = JSON.stringify([input.connectorId, input.eventId]);
    const ttlSec = 2 * this.deps.settings.maxSkewSec + 5;
    if ((await this.deps.signatureBindings.bind(signature, ids, ttlSec)) !== null) {
      throw new AppError(
        'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
        'This signature was already used with another connector or event id; x-gateway-connector-id and x-idempotency-key are not signed. Sign each event separately, or put connectorId and eventId in the body.',
      );
    }
  }

  /** 403 when an allow-list is configured and does not name the connector. */
  checkAllowed(connectorId: string): void {
    const allowed = this.deps.settings.allowedConnectors;
    if (allowed.length > 0 && !allowed.includes(connectorId)) {
      throw new AppError(
        'AGENT_GATEWAY_INGEST_CONNECTOR_FORBIDDEN',
        `Connector "${connectorId}" is not in AGENT_GATEWAY_INGEST_ALLOWED_CONNECTORS.`,
      );
    }
  }

  policyFor(connectorId: string): EffectivePolicy {
    return effectivePolicy(this.deps.settings.limits, this.deps.settings.policies[connectorId]);
  }

  /**
   * Counts a rejection. Before authentication the connector id is the sender's claim, so it is kept only when it
   * is a configured connector; anything else shares the `_unknown` key (bounded, never one row per request).
   */
  countRejection(connectorId: string | undefined, authenticated: boolean, error: unknown): void {
    const code = isAppError(error) ? error.code : 'INTERNAL_ERROR';
    const label =
      connectorId && (authenticated || this.deps.settings.knownConnectors.has(connectorId))
        ? connectorId
        : UNKNOWN_CONNECTOR;
    this.deps.counters.record(label, null, 'rejected', code);
  }

  /** Writes the pending counter increments now (tests, shutdown); normally they flush every few seconds. */
  flushCounters(): Promise<void> {
    return this.deps.counters.flush();
  }

  count(connectorId: string, channel: string, outcome: IngestOutcome, code: string): void {
    this.deps.counters.record(connectorId, channel, outcome, code);
  }

  /**
   * Everything after authentication; shared by the signed endpoint and the native platform webhooks. Rejections
   * thrown here are counted by the caller.
   */
  async accept(
    input: IngestRequestInput,
    policy: EffectivePolicy = this.policyFor(input.connectorId),
    platform?: PlatformContext,
  ): Promise<IngestResult> {
    const { connectorId, eventId } = input;
    const fields = applyProfile(
      input.fields,
      this.deps.settings.profiles[connectorId],
      this.deps.settings.enforceProfile,
      platform?.platform,
    );
    checkBudgets(fields, policy);
    const decision = await this.deps.rateLimiter.take(
      connectorId,
      policy.rateLimitMax,
      policy.rateLimitWindowSec,
    );
    if (!decision.allowed) {
      throw new AppError(
        'AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED',
        `Connector "${connectorId}" sent more than ${policy.rateLimitMax} requests in ${policy.rateLimitWindowSec} s; retry in ${decision.retryAfterSec} s.`,
        { headers: { 'retry-after': String(decision.retryAfterSec) } },
      );
    }
    let externalSessionId = fields.externalSessionId ?? null;
    let externalSessionIdSource: string | null = externalSessionId ? 'body' : null;
    if (!externalSessionId) {
      const fallback = fallbackExternalSessionId(
        platform?.platform ?? platformOfChannel(fields.channel),
        fields.payload,
        fields.metadata,
      );
      if (fallback) {
        externalSessionId = fallback.externalSessionId;
        externalSessionIdSource = fallback.source;
      }
    }
    const sessionId = sessionIdFor(fields.channel, externalSessionId);
    const eventRecordId = `age-${randomUUID()}`;
    const { database } = this.deps;
    const newEvent = {
      id: eventRecordId,
      fromRole: fields.fromRole,
      toRole: fields.toRole ?? null,
      type: fields.type,
      payload: fields.payload === undefined ? {} : fields.payload,
      connectorId,
    };
    // Group-committed with the other requests in flight (see IngestCommitBatcher); answered after the commit.
    const applied = await this.batcher.commit({
      claim: {
        connectorId,
        eventId,
        adapter: fields.adapter,
        channel: fields.channel,
        sessionId,
        externalSessionId,
        sessionEventId: eventRecordId,
      },
      event: newEvent,
      newSession: {
        id: sessionId,
        channel: fields.channel,
        externalSessionId,
        draftId: fields.draftId ?? null,
        connectorId,
        roles: fields.roles ?? [],
        metadata: fields.metadata ?? {},
      },
    });
    if (applied) {
      this.count(connectorId, fields.channel, 'accepted', 'APPLIED');
      return {
        applied: true,
        deduplicated: false,
        adapter: fields.adapter,
        channel: fields.channel,
        connectorId,
        eventId,
        sessionId,
        externalSessionId,
        externalSessionIdSource,
        event: applied,
      };
    }
    const original = await findIngestEvent(database.orm, connectorId, eventId);
    if (!original) throw new Error(`dedup row ${connectorId}/${eventId} vanished after a conflict`);
    const event =
      original.sessionEventId === null
        ? null
        : ((await getEventById(database.orm, original.sessionId, original.sessionEventId)) ?? null);
    this.count(connectorId, original.channel, 'replayed', 'DEDUPLICATED');
    return {
      applied: false,
      deduplicated: true,
      adapter: original.adapter,
      channel: original.channel,
      connectorId,
      eventId,
      sessionId: original.sessionId,
      externalSessionId: original.externalSessionId,
      externalSessionIdSource: null,
      event,
    };
  }
}
