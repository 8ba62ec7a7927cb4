import { describeError } from '../api.js';
import { badge, type Child, facts, field, h, message, replace, table } from '../dom.js';
import { timeEl } from '../format.js';
import type { PageContext } from '../page.js';
import { type SessionEvent, Timeline } from '../timeline.js';

interface Draft {
  id: string;
  title: string;
  body: string;
  context: unknown;
  revision: number;
  createdAt: string;
  updatedAt: string;
}

interface Verdict {
  verdict: string;
  confidence: number | null;
  reason: string | null;
}

interface Revision {
  revision: number;
  title: string;
  body: string;
  source: string;
  runId: string | null;
  verdict: Verdict | null;
  createdAt: string;
}

function verdictText(v: Verdict | null | undefined): Child {
  if (!v) return '—';
  return [
    badge(v.verdict, v.verdict === 'merge' ? 'ok' : 'watch'),
    v.confidence === null || v.confidence === undefined ? '' : ` confidence ${v.confidence}`,
    v.reason ? ` — ${v.reason}` : '',
  ];
}

function createForm(ctx: PageContext): HTMLElement {
  const title = h('input', { name: 'title', type: 'text', required: true, maxlength: 200 });
  const body = h('textarea', { name: 'body', rows: 6, required: true });
  const context = h('textarea', { name: 'context', rows: 2 });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', 'data-mutation': 'create-draft' }, 'Create draft');
  const form = h(
    'form',
    { class: 'panel', 'aria-labelledby': 'create-draft-title' },
    h('h2', { id: 'create-draft-title' }, 'New draft'),
    field('Title', title),
    field('Body', body),
    field('Context (optional)', context, 'Guidance injected into every role prompt: persona, style, rules'),
    h('div', { class: 'actions' }, submit),
    out,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const res = await ctx.api.post<{ draft: Draft }>('/api/admin/drafts', {
        title: title.value,
        body: body.value,
        ...(context.value.trim() ? { context: context.value } : {}),
      });
      ctx.notify(`Draft “${res.draft.title}” created.`);
      ctx.navigate(`#/drafts/${res.draft.id}`);
    } catch (error) {
      replace(out, message(describeError(error), 'error'));
      submit.disabled = false;
    }
  });
  return form;
}

async function listPage(ctx: PageContext): Promise<void> {
  const list = h('div', { 'aria-live': 'polite' });
  replace(
    ctx.root,
    h('h1', { tabindex: '-1' }, 'Drafts'),
    ctx.canOperate ? createForm(ctx) : null,
    h('h2', {}, 'Recent drafts'),
    list,
  );
  try {
    const res = await ctx.api.get<{ drafts: Draft[] }>('/api/admin/drafts', { limit: 50 });
    replace(
      list,
      res.drafts.length === 0
        ? message('No drafts yet.', 'empty')
        : table(
            'Drafts, most recently updated first',
            ['Title', 'Revision', 'Updated'],
            res.drafts.map((d) => [
              h('a', { href: `#/drafts/${d.id}` }, d.title),
              String(d.revision),
              timeEl(d.updatedAt),
            ]),
            { 'data-table': 'drafts' },
          ),
    );
  } catch (error) {
    replace(list, message(describeError(error), 'error'));
  }
}

/** The cycle panel: start (operate), then follow the run's session live until the judge's verdict. */
function cyclePanel(ctx: PageContext, draft: Draft, onFinished: () => void): HTMLElement {
  const channel = h('input', { name: 'channel', type: 'text', value: 'draft_cycle' });
  const seed = h('textarea', { name: 'promptSeed', rows: 2, maxlength: 4000 });
  const start = h('button', { type: 'submit', 'data-mutation': 'start-cycle' }, 'Start cycle');
  const live = h('div', { class: 'cycle-live' });
  const outcome = h('div', { 'aria-live': 'polite', class: 'cycle-outcome' });
  const form = h(
    'form',
    { class: 'panel', 'aria-labelledby': 'cycle-title' },
    h('h2', { id: 'cycle-title' }, 'Run a cycle (critic → maker → judge)'),
    h('div', { class: 'grid' }, field('Channel', channel), field('Prompt seed (optional)', seed)),
    h('div', { class: 'actions' }, start),
    outcome,
    live,
  );
  let timeline: Timeline | undefined;
  ctx.onCleanup(() => timeline?.dispose());
  const onEvent = (event: SessionEvent) => {
    const p = (event.payload ?? {}) as Record<string, unknown>;
    if (event.type === 'draft_cycle_completed') {
      replace(
        outcome,
        h(
          'p',
          {
            class: 'message message-info',
            'data-verdict': String((p.verdict as Verdict | undefined)?.verdict ?? ''),
          },
          'Cycle completed. Judge’s verdict: ',
          verdictText(p.verdict as Verdict),
          p.revision ? ` → revision ${String(p.revision)}` : '',
        ),
      );
      start.disabled = false;
      onFinished();
    } else if (event.type === 'draft_cycle_failed') {
      replace(
        outcome,
        message(
          `Cycle failed at the ${String(p.failedRole ?? '?')} step: ${JSON.stringify(p.error ?? null)}`,
          'error',
        ),
      );
      start.disabled = false;
      onFinished();
    }
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    start.disabled = true;
    replace(outcome, h('p', { class: 'muted' }, 'Starting…'));
    try {
      const res = await ctx.api.post<{ sessionId: string; runId: string; status: string }>(
        '/api/admin/agent-gateway/orchestrate',
        {
          draftId: draft.id,
          channel: channel.value.trim() || undefined,
          promptSeed: seed.value.trim() || undefined,
          async: true,
        },
      );
      replace(
        outcome,
        h(
          'p',
          { class: 'muted' },
          `Run ${res.runId} ${res.status}; session `,
          h('a', { href: `#/sessions/${res.sessionId}` }, res.sessionId),
          '.',
        ),
      );
      timeline?.dispose();
      timeline = new Timeline(ctx.api, res.sessionId, { onEvent });
      replace(live, h('h3', {}, 'Live timeline'), timeline.element);
      await timeline.start();
    } catch (error) {
      replace(outcome, message(describeError(error), 'error'));
      start.disabled = false;
    }
  });
  return form;
}

async function detailPage(ctx: PageContext, id: string): Promise<void> {
  const info = h('div', {});
  const revisions = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    const res = await ctx.api.get<{ draft: Draft; revisions: Revision[] }>(`/api/admin/drafts/${id}`);
    replace(
      info,
      facts([
        ['Current revision', String(res.draft.revision)],
        ['Created', timeEl(res.draft.createdAt)],
        ['Updated', timeEl(res.draft.updatedAt)],
        [
          'Context',
          res.draft.context
            ? h(
                'pre',
                { class: 'payload' },
                typeof res.draft.context === 'string'
                  ? res.draft.context
                  : JSON.stringify(res.draft.context, null, 2),
              )
            : '—',
        ],
      ]),
    );
    replace(
      revisions,
      table(
        'Revisions, oldest first',
        ['Revision', 'Source', 'Judge’s verdict', 'Created', 'Text'],
        res.revisions.map((r) => [
          String(r.revision),
          r.source,
          verdictText(r.verdict),
          timeEl(r.createdAt),
          h(
            'details',
            {},
            h('summary', {}, `Text of revision ${r.revision}`),
            h('pre', { class: 'payload' }, r.body),
          ),
        ]),
        { 'data-table': 'revisions' },
      ),
    );
    return res.draft;
  };
  const draft = await load();
  replace(
    ctx.root,
    h('p', {}, h('a', { href: '#/drafts' }, '← All drafts')),
    h('h1', { tabindex: '-1' }, draft.title),
    info,
    ctx.canOperate ? cyclePanel(ctx, draft, () => void load().catch(() => undefined)) : null,
    h('h2', {}, 'Revisions'),
    revisions,
  );
}

/** Drafts: create one, start a cycle, watch it live, see revisions and verdicts. */
export async function draftsPage(ctx: PageContext): Promise<void> {
  const id = ctx.params[0];
  if (id) await detailPage(ctx, id);
  else await listPage(ctx);
}
