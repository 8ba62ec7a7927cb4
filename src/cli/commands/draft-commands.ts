import { readFileSync } from 'node:fs';
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

export const draftsUsage = `agw drafts create --title T (--body TEXT | --body-file FILE) [--context TEXT]
agw drafts list [--limit N]
agw drafts show ID
agw orchestrate --draft ID [--channel C] [--external-session-id X] [--prompt-seed TEXT] [--async] [--follow]
            --follow prints the session's live timeline until the cycle ends; exit 1 when the cycle failed`;

/** `agw drafts …`: create, list and show drafts with their revisions. */
export async function draftsCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { values } = parseFlags(rest, {
        ...remoteOptions,
        title: { type: 'string' },
        body: { type: 'string' },
        'body-file': { type: 'string' },
        context: { type: 'string' },
      });
      if (!values.title) throw new UsageError('--title is required');
      if (values.body !== undefined && values['body-file'] !== undefined)
        throw new UsageError('give --body or --body-file, not both');
      let body = values.body;
      if (values['body-file'] !== undefined) {
        try {
          body = readFileSync(values['body-file'], 'utf8');
        } catch (error) {
          throw new UsageError(`cannot read --body-file: ${(error as Error).message}`);
        }
      }
      if (!body) throw new UsageError('--body or --body-file is required');
      const res = await GatewayClient.from(values, io.env).request('POST', '/api/admin/drafts', {
        title: values.title,
        body,
        ...(values.context ? { context: values.context } : {}),
      });
      if (res.status !== 201) return reportApiError(io, res, values.json);
      const draft = (res.body as { draft: { id: string; revision: number } }).draft;
      io.out(
        values.json ? JSON.stringify(res.body, null, 2) : `draft ${draft.id} (revision ${draft.revision})`,
      );
      return EXIT.ok;
    }
    case 'list': {
      const { values } = parseFlags(rest, { ...remoteOptions, limit: { type: 'string' } });
      const res = await GatewayClient.from(values, io.env).request(
        'GET',
        `/api/admin/drafts?limit=${encodeURIComponent(values.limit ?? '50')}`,
      );
      if (res.status !== 200) return reportApiError(io, res, values.json);
      const drafts = (
        res.body as { drafts: { id: string; title: string; revision: number; updatedAt: string }[] }
      ).drafts;
      io.out(
        values.json
          ? JSON.stringify(res.body, null, 2)
          : table(
              ['ID', 'TITLE', 'REV', 'UPDATED'],
              drafts.map((d) => [d.id, d.title, d.revision, d.updatedAt]),
            ),
      );
      return EXIT.ok;
    }
    case 'show': {
      const { values, positionals } = parseFlags(rest, remoteOptions, 1);
      if (!positionals[0]) throw new UsageError('agw drafts show needs a draft id');
      const res = await GatewayClient.from(values, io.env).request(
        'GET',
        `/api/admin/drafts/${encodeURIComponent(positionals[0])}`,
      );
      if (res.status !== 200) return reportApiError(io, res, values.json);
      if (values.json) {
        io.out(JSON.stringify(res.body, null, 2));
        return EXIT.ok;
      }
      const { draft, revisions } = res.body as {
        draft: { id: string; title: string; revision: number; body: string; updatedAt: string };
        revisions: {
          revision: number;
          source: string;
          runId: string | null;
          verdict: unknown;
          createdAt: string;
        }[];
      };
      io.out(
        [
          `draft ${draft.id} "${draft.title}" revision ${draft.revision} (updated ${draft.updatedAt})`,
          '',
          draft.body,
          '',
          table(
            ['REV', 'SOURCE', 'RUN', 'VERDICT', 'CREATED'],
            revisions.map((r) => [
              r.revision,
              r.source,
              r.runId,
              r.verdict === null || r.verdict === undefined ? null : JSON.stringify(r.verdict),
              r.createdAt,
            ]),
          ),
        ].join('\n'),
      );
      return EXIT.ok;
    }
    default:
      throw new UsageError(sub ? `unknown drafts command: ${sub}` : 'agw drafts needs a subcommand');
  }
}

/** Prints one SSE event of the session stream as a timeline line. */
function timelineLine(data: string): string {
  const e = JSON.parse(data) as {
    seq: number;
    fromRole: string;
    toRole: string | null;
    type: string;
    payload: Record<string, unknown>;
  };
  const detail =
    typeof e.payload?.selectedProvider === 'string'
      ? ` via ${e.payload.selectedProvider}${e.payload.failed ? ' (FAILED)' : ''}`
      : e.payload?.verdict
        ? ` verdict ${JSON.stringify(e.payload.verdict)}`
        : '';
  return `#${e.seq} ${e.fromRole}${e.toRole ? ` → ${e.toRole}` : ''}  ${e.type}${detail}`;
}

/** `agw orchestrate`: start a draft cycle; `--follow` streams the timeline until the session closes. */
export async function orchestrateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    ...remoteOptions,
    draft: { type: 'string' },
    channel: { type: 'string' },
    'external-session-id': { type: 'string' },
    'prompt-seed': { type: 'string' },
    async: { type: 'boolean', default: false },
    follow: { type: 'boolean', default: false },
  });
  if (!values.draft) throw new UsageError('--draft is required');
  const client = GatewayClient.from(values, io.env);
  const res = await client.request(
    'POST',
    '/api/admin/agent-gateway/orchestrate',
    {
      draftId: values.draft,
      ...(values.channel ? { channel: values.channel } : {}),
      ...(values['external-session-id'] ? { externalSessionId: values['external-session-id'] } : {}),
      ...(values['prompt-seed'] ? { promptSeed: values['prompt-seed'] } : {}),
      ...(values.async || values.follow ? { async: true } : {}),
    },
    330_000,
  );
  if (res.status !== 201 && res.status !== 202) return reportApiError(io, res, values.json);
  const body = res.body as {
    sessionId: string;
    runId: string;
    status: string;
    completed?: boolean;
    verdict?: unknown;
  };
  if (!values.follow) {
    if (values.json) io.out(JSON.stringify(body, null, 2));
    else
      io.out(
        `run ${body.runId} session ${body.sessionId}: ${body.status}${body.verdict ? ` verdict ${JSON.stringify(body.verdict)}` : ''}`,
      );
    return body.status === 'failed' ? EXIT.failed : EXIT.ok;
  }
  if (!values.json) io.out(`run ${body.runId} session ${body.sessionId}; following…`);
  const stream = await client.stream(`/api/admin/agent-gateway/sessions/${body.sessionId}/stream`);
  let failed = false;
  for await (const event of stream) {
    if (event.type === 'draft_cycle_failed') failed = true;
    io.out(values.json ? event.data : timelineLine(event.data));
  }
  return failed ? EXIT.failed : EXIT.ok;
}
