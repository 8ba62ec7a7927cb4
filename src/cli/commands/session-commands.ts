import {
  type CliIo,
  EXIT,
  GatewayClient,
  parseFlags,
  remoteOptions,
  reportApiError,
  table,
  UsageError,
} from '../cli-context.js';

const BASE = '/api/admin/agent-gateway/sessions';

export const sessionsUsage = `agw sessions list [--stale MIN] [--status active|closed] [--channel C] [--provider P] [--connector C]
                  [--limit N] [--source db|memory] [--cursor CUR]
agw sessions show ID [--limit N]
agw sessions status ID
agw sessions summary ID
agw sessions compact ID [--keep-recent N]   (default 40)
agw sessions close ID`;

function requireId(positionals: string[], sub: string): string {
  const id = positionals[0];
  if (!id) throw new UsageError(`agw sessions ${sub} needs a session id`);
  return encodeURIComponent(id);
}

interface SessionRow {
  id: string;
  channel: string;
  status: string;
  eventCount: number;
  updatedAt: string;
  stale?: boolean;
  needsAttention?: boolean;
}

/** `agw sessions …`: the runbook's session actions over the admin API. */
export async function sessionsCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list': {
      const { values } = parseFlags(rest, {
        ...remoteOptions,
        stale: { type: 'string' },
        status: { type: 'string' },
        channel: { type: 'string' },
        provider: { type: 'string' },
        connector: { type: 'string' },
        limit: { type: 'string' },
        source: { type: 'string' },
        cursor: { type: 'string' },
      });
      const query = new URLSearchParams();
      query.set('source', values.source ?? 'db');
      query.set('limit', values.limit ?? '50');
      if (values.stale) query.set('staleMinutes', values.stale);
      for (const key of ['status', 'channel', 'provider', 'connector', 'cursor'] as const) {
        const value = values[key];
        if (value) query.set(key, value);
      }
      const client = GatewayClient.from(values, io.env);
      const res = await client.request('GET', `${BASE}?${query}`);
      if (res.status !== 200) return reportApiError(io, res, values.json);
      const body = res.body as { sessions: SessionRow[]; nextCursor: string | null };
      if (values.json) {
        io.out(JSON.stringify(body, null, 2));
        return EXIT.ok;
      }
      io.out(
        table(
          ['ID', 'CHANNEL', 'STATUS', 'EVENTS', 'UPDATED', 'FLAGS'],
          body.sessions.map((s) => [
            s.id,
            s.channel,
            s.status,
            s.eventCount,
            s.updatedAt,
            [s.stale ? 'stale' : '', s.needsAttention ? 'attention' : ''].filter(Boolean).join(',') || null,
          ]),
        ),
      );
      io.out(
        `${body.sessions.length} session(s)${body.nextCursor ? `; next page: --cursor ${body.nextCursor}` : ''}`,
      );
      return EXIT.ok;
    }
    case 'show':
    case 'status':
    case 'summary': {
      const { values, positionals } = parseFlags(rest, { ...remoteOptions, limit: { type: 'string' } }, 1);
      const id = requireId(positionals, sub);
      const path =
        sub === 'show'
          ? `${BASE}/${id}${values.limit ? `?limit=${encodeURIComponent(values.limit)}` : ''}`
          : `${BASE}/${id}/${sub}?source=db`;
      const res = await GatewayClient.from(values, io.env).request('GET', path);
      if (res.status !== 200) return reportApiError(io, res, values.json);
      if (values.json) {
        io.out(JSON.stringify(res.body, null, 2));
        return EXIT.ok;
      }
      if (sub === 'show') io.out(showText(res.body as ShowBody));
      else if (sub === 'summary') io.out(summaryText((res.body as { summary: SummaryBody }).summary));
      else io.out(fieldTable((res.body as { status: Record<string, unknown> }).status));
      return EXIT.ok;
    }
    case 'compact': {
      const { values, positionals } = parseFlags(
        rest,
        { ...remoteOptions, 'keep-recent': { type: 'string' } },
        1,
      );
      const id = requireId(positionals, sub);
      const keepRecent = values['keep-recent'] === undefined ? 40 : Number(values['keep-recent']);
      if (!Number.isInteger(keepRecent)) throw new UsageError('--keep-recent must be an integer');
      const res = await GatewayClient.from(values, io.env).request('POST', `${BASE}/${id}/compact`, {
        keepRecent,
      });
      if (res.status !== 200) return reportApiError(io, res, values.json);
      const body = res.body as {
        totalBefore: number;
        totalAfter: number;
        prunedCount: number;
        keptCount: number;
      };
      io.out(
        values.json
          ? JSON.stringify(body, null, 2)
          : `compacted: ${body.prunedCount} archived, ${body.keptCount} kept (live ${body.totalBefore} → ${body.totalAfter})`,
      );
      return EXIT.ok;
    }
    case 'close': {
      const { values, positionals } = parseFlags(rest, remoteOptions, 1);
      const id = requireId(positionals, sub);
      const res = await GatewayClient.from(values, io.env).request('POST', `${BASE}/${id}/close`);
      if (res.status !== 200) return reportApiError(io, res, values.json);
      const body = res.body as { session: { id: string; status: string }; closedNow: boolean };
      io.out(
        values.json
          ? JSON.stringify(body, null, 2)
          : `${body.session.id}: ${body.session.status}${body.closedNow ? '' : ' (was already closed)'}`,
      );
      return EXIT.ok;
    }
    default:
      throw new UsageError(sub ? `unknown sessions command: ${sub}` : 'agw sessions needs a subcommand');
  }
}

const cell = (v: unknown) =>
  v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);

function fieldTable(fields: Record<string, unknown>): string {
  return table(
    ['FIELD', 'VALUE'],
    Object.entries(fields).map(([k, v]) => [k, cell(v)]),
  );
}

/** `{ a: 3, b: 1 }` as rows, largest first. */
function countTable(title: string, counts: Record<string, number>): string {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return rows.length === 0 ? `${title}: none` : table([title, 'COUNT'], rows);
}

interface ShowBody {
  session: Record<string, unknown> & { id: string };
  events: {
    seq: number;
    createdAt: string;
    fromRole: string;
    toRole: string | null;
    type: string;
    payload: Record<string, unknown>;
  }[];
}

/** A session's fields, then its latest events (one line each, payload cut to fit). */
function showText(body: ShowBody): string {
  const payloadText = (payload: Record<string, unknown>) => {
    const text = JSON.stringify(payload ?? {});
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  return [
    fieldTable(body.session),
    '',
    table(
      ['SEQ', 'AT', 'FROM', 'TO', 'TYPE', 'PAYLOAD'],
      body.events.map((e) => [e.seq, e.createdAt, e.fromRole, e.toRole, e.type, payloadText(e.payload)]),
    ),
    `${body.events.length} event(s) shown (newest ${body.events.length}; --limit N, --json for payloads)`,
  ].join('\n');
}

interface SummaryBody {
  session: { id: string; channel: string; status: string };
  totals: Record<string, unknown>;
  byType: Record<string, number>;
  byRole: Record<string, number>;
  providerUsage: Record<string, number>;
  attemptStatus: Record<string, number>;
  compaction: Record<string, unknown>;
  lastEvent: { seq: number; type: string; createdAt: string } | null;
}

/** Totals, compaction and attempts as field tables, then the per-type / role / provider counts. */
function summaryText(summary: SummaryBody): string {
  const last = summary.lastEvent;
  return [
    `session ${summary.session.id} (${summary.session.channel}, ${summary.session.status})` +
      (last ? `; last event #${last.seq} ${last.type} at ${last.createdAt}` : '; no events'),
    '',
    fieldTable({ ...summary.totals, ...summary.compaction }),
    '',
    fieldTable(
      Object.fromEntries(Object.entries(summary.attemptStatus).map(([k, v]) => [`attempts ${k}`, v])),
    ),
    '',
    countTable('TYPE', summary.byType),
    '',
    countTable('ROLE', summary.byRole),
    '',
    countTable('PROVIDER', summary.providerUsage),
  ].join('\n');
}
