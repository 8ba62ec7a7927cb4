import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type ChannelObservation,
  classifyChannel,
  failureModeRouting,
  failureModes,
  renderRoutingTable,
  withRoutingTable,
} from './failure-modes.js';

const passing: ChannelObservation = {
  ingest: { httpStatus: 201, errorCode: null, applied: true },
  sessionLookup: { httpStatus: 200 },
  expectedExternalSessionId: 'telegram_chat:-100',
  resolvedExternalSessionId: 'telegram_chat:-100',
  telemetry: { httpStatus: 200, connectorFound: true, total: 3, acceptedBefore: 1, acceptedAfter: 2 },
  probeError: null,
};

const broken = (patch: Partial<ChannelObservation>): ChannelObservation => ({ ...passing, ...patch });

describe('classifyChannel: the first failing predicate, in SPEC order', () => {
  it('a channel whose every step answered as expected has no failure mode', () => {
    expect(classifyChannel(passing)).toBeNull();
  });

  it.each([
    [
      'no answer at all',
      { ingest: { httpStatus: null, errorCode: null, applied: null } },
      'ingest_http_error',
    ],
    [
      '401 signature',
      { ingest: { httpStatus: 401, errorCode: 'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID', applied: null } },
      'ingest_http_error',
    ],
    [
      '502 from a proxy',
      { ingest: { httpStatus: 502, errorCode: null, applied: null } },
      'ingest_http_error',
    ],
    [
      '409 profile conflict',
      {
        ingest: {
          httpStatus: 409,
          errorCode: 'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT',
          applied: null,
        },
      },
      'ingest_not_applied',
    ],
    [
      '429 rate limited',
      {
        ingest: { httpStatus: 429, errorCode: 'AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMITED', applied: null },
      },
      'ingest_not_applied',
    ],
    ['200 replay', { ingest: { httpStatus: 200, errorCode: null, applied: false } }, 'ingest_not_applied'],
    ['sessions 401', { sessionLookup: { httpStatus: 401 } }, 'sessions_lookup_error'],
    ['sessions never asked', { sessionLookup: null }, 'sessions_lookup_error'],
    ['random session', { resolvedExternalSessionId: null }, 'fallback_session_mismatch'],
    ['telemetry 503', { telemetry: { ...passing.telemetry!, httpStatus: 503 } }, 'telemetry_http_error'],
    [
      'connector missing',
      { telemetry: { ...passing.telemetry!, connectorFound: false, total: 0, acceptedAfter: 0 } },
      'telemetry_no_connector_events',
    ],
    [
      'only rejections',
      { telemetry: { ...passing.telemetry!, acceptedBefore: 0, acceptedAfter: 0 } },
      'telemetry_zero_accepted',
    ],
    ['probe crashed after every check', { probeError: 'boom' }, 'unknown'],
  ] as const)('%s → %s', (_name, patch, mode) => {
    expect(classifyChannel(broken(patch as Partial<ChannelObservation>))).toBe(mode);
  });

  it('when several steps fail, the earliest mode in SPEC order wins', () => {
    const everythingWrong = broken({
      sessionLookup: { httpStatus: 500 },
      resolvedExternalSessionId: 'other',
      telemetry: { httpStatus: null, connectorFound: false, total: 0, acceptedBefore: 0, acceptedAfter: 0 },
    });
    expect(classifyChannel(everythingWrong)).toBe('sessions_lookup_error');
    expect(classifyChannel({ ...everythingWrong, sessionLookup: { httpStatus: 200 } })).toBe(
      'fallback_session_mismatch',
    );
  });
});

describe('the routing table', () => {
  it('has one row per failure mode, in SPEC order', () => {
    expect(failureModeRouting.map((r) => r.failureMode)).toEqual([...failureModes]);
    expect([...failureModes]).toEqual([
      'ingest_http_error',
      'ingest_not_applied',
      'sessions_lookup_error',
      'fallback_session_mismatch',
      'telemetry_http_error',
      'telemetry_no_connector_events',
      'telemetry_zero_accepted',
      'unknown',
    ]);
  });

  it('is rendered verbatim in docs/ops/agent-gateway-ai-runtime-runbook.md (npm run docs:generate)', () => {
    const doc = readFileSync(
      new URL('../../../docs/ops/agent-gateway-ai-runtime-runbook.md', import.meta.url),
      'utf8',
    );
    expect(doc).toBe(withRoutingTable(doc));
    expect(doc).toContain(renderRoutingTable());
    for (const row of failureModeRouting) {
      expect(doc).toContain(`| \`${row.failureMode}\` |`);
      expect(doc).toContain(row.escalateTo);
    }
  });
});
