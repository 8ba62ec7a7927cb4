import { describeError } from '../api.js';
import { badge, field, h, message, replace, table } from '../dom.js';
import { ago, count, timeEl } from '../format.js';
import { hashWith, type PageContext } from '../page.js';
import type { SessionRecord } from '../timeline.js';

interface SessionList {
  source: string;
  sessions: SessionRecord[];
  nextCursor: string | null;
}

const filterKeys = ['source', 'status', 'channel', 'provider', 'connector', 'staleMinutes', 'limit'] as const;

/** Cursors of the pages before the current one (keyset pagination only goes forward). */
const previousCursors: string[] = [];

export function sessionBadges(s: SessionRecord) {
  return [
    badge(s.status, s.status === 'active' ? 'info' : 'muted'),
    s.stale ? badge('stale', 'watch', 'Active with no event for longer than the stale threshold') : null,
    s.needsAttention ? badge('attention', 'critical', 'A failed step or cycle, or stale: look at it') : null,
  ];
}

/** Sessions: the runbook's "identify stale sessions" with filters, badges and keyset pagination. */
export async function sessionsPage(ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const input = (name: string, attrs: Record<string, string | number> = {}) =>
    h('input', { name, value: q.get(name) ?? '', ...attrs });
  const select = (name: string, options: [string, string][]) =>
    h(
      'select',
      { name },
      options.map(([value, label]) => h('option', { value, selected: (q.get(name) ?? '') === value }, label)),
    );

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Session filters' },
    h(
      'div',
      { class: 'grid' },
      field(
        'Source',
        select('source', [
          ['db', 'database (db)'],
          ['memory', 'this replica’s cache (memory)'],
        ]),
      ),
      field(
        'Status',
        select('status', [
          ['', 'any'],
          ['active', 'active'],
          ['closed', 'closed'],
        ]),
      ),
      field('Channel', input('channel', { type: 'text' })),
      field('Provider', input('provider', { type: 'text' })),
      field('Connector', input('connector', { type: 'text' })),
      field(
        'Stale for (minutes)',
        input('staleMinutes', { type: 'number', min: 1, max: 10080 }),
        'Only active sessions without events for this long',
      ),
      field(
        'Page size',
        select('limit', [
          ['', '50'],
          ['20', '20'],
          ['100', '100'],
          ['200', '200'],
        ]),
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply filters'),
      h('button', { type: 'reset', class: 'secondary' }, 'Clear'),
    ),
  );
  const results = h('div', { 'aria-live': 'polite' });
  replace(ctx.root, h('h1', { tabindex: '-1' }, 'Sessions'), form, results);

  const filters = (): Record<string, string> => {
    const data = new FormData(form);
    const out: Record<string, string> = {};
    for (const key of filterKeys) {
      const value = String(data.get(key) ?? '').trim();
      if (value && !(key === 'source' && value === 'db')) out[key] = value;
    }
    return out;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    previousCursors.length = 0;
    ctx.navigate(hashWith('sessions', filters()));
  });
  form.addEventListener('reset', () => {
    previousCursors.length = 0;
    ctx.navigate('#/sessions');
  });

  const current = Object.fromEntries([...filterKeys, 'cursor'].map((k) => [k, q.get(k)]));
  if (!current.cursor) previousCursors.length = 0;
  try {
    const list = await ctx.api.get<SessionList>('/api/admin/agent-gateway/sessions', current);
    const now = Date.now();
    const pager = h(
      'div',
      { class: 'actions pager' },
      current.cursor
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () =>
                ctx.navigate(hashWith('sessions', { ...current, cursor: previousCursors.pop() ?? null })),
            },
            'Previous page',
          )
        : null,
      list.nextCursor
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                previousCursors.push(current.cursor ?? '');
                ctx.navigate(hashWith('sessions', { ...current, cursor: list.nextCursor }));
              },
            },
            'Next page',
          )
        : null,
    );
    replace(
      results,
      list.sessions.length === 0
        ? message('No session matches these filters.', 'empty')
        : table(
            `${list.sessions.length} session${list.sessions.length === 1 ? '' : 's'} from ${list.source}, most recently updated first`,
            ['Session', 'Channel', 'Status', 'Events', 'Last event', 'Updated', 'Draft'],
            list.sessions.map((s) => [
              h('a', { href: `#/sessions/${encodeURIComponent(s.id)}` }, h('code', {}, s.id)),
              [
                s.channel,
                s.externalSessionId ? h('small', { class: 'hint' }, ` ${s.externalSessionId}`) : null,
              ],
              sessionBadges(s),
              count(s.eventCount),
              s.lastEventAt ? timeEl(s.lastEventAt, ago(s.lastEventAt, now)) : '—',
              timeEl(s.updatedAt),
              s.draftId ? h('a', { href: `#/drafts/${s.draftId}` }, 'draft') : '—',
            ]),
            { 'data-table': 'sessions' },
          ),
      pager,
    );
  } catch (error) {
    replace(results, message(describeError(error), 'error'));
  }
}
