import { describeError } from '../api.js';
import { confirmAction } from '../confirm.js';
import { badge, type Child, facts, field, h, message, replace } from '../dom.js';
import { count, duration, timeEl } from '../format.js';
import type { PageContext } from '../page.js';
import { type SessionRecord, Timeline } from '../timeline.js';
import { sessionBadges } from './sessions-page.js';

const S = '/api/admin/agent-gateway/sessions';

interface SessionStatus {
  status: string;
  lastEventType: string | null;
  eventCount: number;
  durationMs: number | null;
  cycleCompletedCount: number;
  cycleFailedCount: number;
  failedStepCount: number;
  compactCount: number;
  staleMinutes?: number;
  stale: boolean;
  needsAttention: boolean;
  health: 'ok' | 'attention';
}

interface SessionSummary {
  totals: Record<string, number | null>;
  byType: Record<string, number>;
  byRole: Record<string, number>;
  providerUsage: Record<string, number>;
  attemptStatus: Record<string, number>;
  compaction: {
    compactCount: number;
    autoCompactCount?: number;
    prunedCountTotal: number;
    lastCompactedAt: string | null;
  };
}

function counts(record: Record<string, number>): Child {
  const entries = Object.entries(record ?? {});
  if (entries.length === 0) return '—';
  return h(
    'ul',
    { class: 'inline-list' },
    entries.sort((a, b) => b[1] - a[1]).map(([k, v]) => h('li', {}, h('code', {}, k), ` ${v}`)),
  );
}

/** One session: status, summary, compact/close (operate) and the live timeline. */
export async function sessionPage(ctx: PageContext): Promise<void> {
  const id = ctx.params[0] ?? '';
  const heading = h('h1', { tabindex: '-1' }, 'Session ', h('code', {}, id));
  const badges = h('p', { class: 'badges' });
  const statusBox = h('div', { class: 'panel' }, h('p', { class: 'muted' }, 'Loading status…'));
  const summaryBox = h('div', { class: 'panel' }, h('p', { class: 'muted' }, 'Loading summary…'));
  const actionOut = h('div', { 'aria-live': 'polite' });
  const includeArchived = h('input', { id: 'include-archived', type: 'checkbox' });
  let session: SessionRecord | undefined;

  const timeline = new Timeline(ctx.api, id, {
    onSession: (s) => {
      session = s;
      replace(
        badges,
        sessionBadges(s),
        ` channel ${s.channel}`,
        s.draftId ? [' · ', h('a', { href: `#/drafts/${s.draftId}` }, 'draft')] : null,
      );
      updateActions();
    },
    onEvent: (event, live) => {
      if (!live) return;
      if (event.type === 'session_closed' && session) {
        session = { ...session, status: 'closed' };
        replace(badges, sessionBadges(session), ` channel ${session.channel}`);
        updateActions();
      }
      scheduleRefresh();
    },
  });
  ctx.onCleanup(() => timeline.dispose());

  const loadStatus = async () => {
    try {
      const [{ status }, { summary }] = await Promise.all([
        ctx.api.get<{ status: SessionStatus }>(`${S}/${id}/status`),
        ctx.api.get<{ summary: SessionSummary }>(`${S}/${id}/summary`),
      ]);
      replace(
        statusBox,
        h('h2', {}, 'Status'),
        facts([
          ['Health', badge(status.health, status.health === 'ok' ? 'ok' : 'critical')],
          ['Status', status.status],
          [
            'Stale',
            status.stale ? badge(`yes (no event for ${status.staleMinutes ?? '?'} min)`, 'watch') : 'no',
          ],
          ['Last event type', status.lastEventType ? h('code', {}, status.lastEventType) : '—'],
          ['Events in timeline', count(status.eventCount)],
          ['Duration', duration(status.durationMs)],
          ['Cycles completed / failed', `${status.cycleCompletedCount} / ${status.cycleFailedCount}`],
          ['Failed steps', count(status.failedStepCount)],
        ]),
      );
      replace(
        summaryBox,
        h('h2', {}, 'Summary'),
        facts([
          ['Event types', counts(summary.byType)],
          ['Roles', counts(summary.byRole)],
          ['Providers', counts(summary.providerUsage)],
          ['Attempts', counts(summary.attemptStatus)],
          [
            'Compaction',
            `${summary.compaction.compactCount} compaction${summary.compaction.compactCount === 1 ? '' : 's'}, ${summary.compaction.prunedCountTotal} events archived`,
          ],
          ['Last compacted', timeEl(summary.compaction.lastCompactedAt)],
        ]),
      );
    } catch (error) {
      replace(statusBox, message(describeError(error), 'error'));
      replace(summaryBox);
    }
  };
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void loadStatus(), 300);
  };
  ctx.onCleanup(() => clearTimeout(refreshTimer));

  // Mutation controls exist only for tokens with `operate`.
  const keepRecent = h('input', {
    name: 'keepRecent',
    type: 'number',
    min: 1,
    max: 1000,
    value: '40',
    required: true,
  });
  const compactButton = h('button', { type: 'submit', 'data-mutation': 'compact' }, 'Compact');
  const closeButton = h(
    'button',
    { type: 'button', class: 'danger', 'data-mutation': 'close' },
    'Close session',
  );
  const updateActions = () => {
    const closed = session?.status === 'closed';
    compactButton.disabled = !session;
    closeButton.disabled = !session || closed;
    closeButton.title = closed ? 'Already closed' : '';
  };
  const compactForm = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Compact the session' },
    field('Keep the newest events', keepRecent, 'Older events move to the archive (nothing is deleted)'),
    compactButton,
  );
  compactForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const keep = Number(keepRecent.value);
    if (
      !(await confirmAction(
        'Compact this session?',
        `Everything but the newest ${keep} events moves to the archive. The timeline keeps a session_compacted record.`,
        'Compact',
      ))
    )
      return;
    compactButton.disabled = true;
    try {
      const res = await ctx.api.post<{ prunedCount: number; keptCount: number; totalBefore: number }>(
        `${S}/${id}/compact`,
        { keepRecent: keep },
      );
      replace(
        actionOut,
        message(
          `Compacted: ${res.prunedCount} archived, ${res.keptCount} kept (of ${res.totalBefore}).`,
          'info',
        ),
      );
      await timeline.start();
      await loadStatus();
    } catch (error) {
      replace(actionOut, message(describeError(error), 'error'));
    } finally {
      updateActions();
    }
  });
  closeButton.addEventListener('click', async () => {
    if (
      !(await confirmAction(
        'Close this session?',
        'Nothing more can be appended once it is closed. Closing is final.',
        'Close session',
      ))
    )
      return;
    closeButton.disabled = true;
    try {
      const res = await ctx.api.post<{ session: SessionRecord; closedNow: boolean }>(`${S}/${id}/close`);
      replace(
        actionOut,
        message(res.closedNow ? 'Session closed.' : 'The session was already closed.', 'info'),
      );
      session = { ...(session as SessionRecord), ...res.session };
      replace(badges, sessionBadges(session), ` channel ${session.channel}`);
      await loadStatus();
    } catch (error) {
      replace(actionOut, message(describeError(error), 'error'));
    } finally {
      updateActions();
    }
  });
  updateActions();

  includeArchived.addEventListener('change', () => void timeline.showArchived(includeArchived.checked));

  replace(
    ctx.root,
    h('p', {}, h('a', { href: '#/sessions' }, '← All sessions')),
    heading,
    badges,
    h('div', { class: 'columns' }, statusBox, summaryBox),
    ctx.canOperate
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'actions-title' },
          h('h2', { id: 'actions-title' }, 'Actions'),
          h('div', { class: 'action-row' }, compactForm, closeButton),
          actionOut,
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Timeline'),
      h(
        'div',
        { class: 'field field-inline' },
        includeArchived,
        h('label', { for: 'include-archived' }, 'Include archived (compacted) events'),
      ),
      timeline.element,
    ),
  );
  await Promise.all([timeline.start(), loadStatus()]);
}
