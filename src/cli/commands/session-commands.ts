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
      if (values.json || sub !== 'status') {
        io.out(JSON.stringify(res.body, null, 2));
        return EXIT.ok;
      }
      const status = (res.body as { status: Record<string, unknown> }).status;
      io.out(
        table(
          ['FIELD', 'VALUE'],
          Object.entries(status).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
        ),
      );
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
