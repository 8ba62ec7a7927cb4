import { describeError } from '../api.js';
import { badge, facts, field, h, message, replace, table } from '../dom.js';
import { csvList, duration } from '../format.js';
import type { PageContext } from '../page.js';

const roles = ['author', 'critic', 'maker', 'judge'];

interface Attempt {
  provider: string;
  authProfile: string;
  model: string;
  mode?: string;
  status: 'success' | 'failed' | 'skipped_cooldown';
  latencyMs: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  httpStatus: number | null;
}

interface DryRunResponse {
  correlation: unknown;
  result: {
    role: string;
    selectedProvider: string | null;
    selectedAuthProfile: string | null;
    selectedModel: string | null;
    mode: string | null;
    output: string | null;
    failed: boolean;
    latencyMs: number;
    attempts: Attempt[];
    deadlineExceeded?: boolean;
    live?: boolean;
  };
}

const statusTone = { success: 'ok', failed: 'critical', skipped_cooldown: 'watch' } as const;

function renderResult(res: DryRunResponse): HTMLElement {
  const r = res.result;
  return h(
    'div',
    { class: 'dry-run-result', 'data-failed': String(r.failed) },
    h(
      'p',
      { class: `message message-${r.failed ? 'error' : 'info'}` },
      r.failed
        ? `Dry-run for ${r.role} failed: every provider in the chain failed or was cooling down.`
        : `Dry-run for ${r.role} answered from ${r.selectedProvider}@${r.selectedAuthProfile} after ${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'}.`,
    ),
    facts([
      [
        'Selected',
        r.selectedProvider ? `${r.selectedProvider}@${r.selectedAuthProfile} (${r.selectedModel})` : '—',
      ],
      ['Mode', r.mode === 'deterministic' ? badge('deterministic', 'muted') : (r.mode ?? '—')],
      ['Latency', duration(r.latencyMs)],
      ['Network providers', r.live ? 'called (live)' : 'simulated (no network call)'],
    ]),
    table(
      'Attempts, in the order they were made',
      ['#', 'Provider', 'Status', 'Latency', 'Error code', 'Message'],
      r.attempts.map((a, i) => [
        String(i + 1),
        `${a.provider}@${a.authProfile}`,
        badge(a.status.replace('_', ' '), statusTone[a.status] ?? 'muted'),
        a.latencyMs === null ? '—' : duration(a.latencyMs),
        a.errorCode ? h('code', {}, a.errorCode) : '—',
        a.errorMessage ?? '—',
      ]),
      { 'data-table': 'attempts' },
    ),
    r.output
      ? h('details', { open: true }, h('summary', {}, 'Output'), h('pre', { class: 'payload' }, r.output))
      : null,
  );
}

/** The runbook's deterministic dry-run probe, with simulated failures to rehearse failover. Needs `operate`. */
export function dryRunForm(ctx: PageContext): HTMLElement {
  const role = h(
    'select',
    { name: 'role' },
    roles.map((r) => h('option', { value: r, selected: r === 'critic' }, r)),
  );
  const prompt = h('textarea', { name: 'prompt', rows: 3, required: true, maxlength: 4000 });
  prompt.value = 'health probe: summarize fallback readiness';
  const timeout = h('input', { name: 'timeoutMs', type: 'number', min: 1, max: 120000, value: '12000' });
  const simulate = h('input', { name: 'simulateFailures', type: 'text', placeholder: 'local-primary' });
  const override = h('input', { name: 'providersOverride', type: 'text' });
  const live = h('input', { id: 'dry-run-live', name: 'live', type: 'checkbox' });
  const submit = h('button', { type: 'submit', 'data-mutation': 'dry-run' }, 'Run dry-run');
  const out = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'panel', 'aria-labelledby': 'dry-run-title' },
    h('h2', { id: 'dry-run-title' }, 'Dry-run probe'),
    h(
      'p',
      { class: 'muted' },
      'Runs one role through its chain without changing any circuit. Network providers are simulated unless “live” is ticked.',
    ),
    h(
      'div',
      { class: 'grid' },
      field('Role', role),
      field('Timeout (ms)', timeout, '1–120000'),
      field(
        'Simulate failures',
        simulate,
        'Comma-separated provider or provider@profile ids that should fail',
      ),
      field(
        'Providers override',
        override,
        'Comma-separated provider ids to use instead of the role’s chain',
      ),
    ),
    field('Prompt', prompt, 'Keep it non-sensitive (runbook security notes)'),
    h(
      'div',
      { class: 'field field-inline' },
      live,
      h('label', { for: 'dry-run-live' }, 'Live: call network providers (explicit opt-in)'),
    ),
    h('div', { class: 'actions' }, submit),
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { role: role.value, prompt: prompt.value };
    if (timeout.value) body.timeoutMs = Number(timeout.value);
    if (csvList(simulate.value).length) body.simulateFailures = csvList(simulate.value);
    if (csvList(override.value).length) body.providersOverride = csvList(override.value);
    if (live.checked) body.live = true;
    submit.disabled = true;
    replace(out, h('p', { class: 'muted' }, 'Running…'));
    ctx.api
      .post<DryRunResponse>('/api/admin/ai-runtime/dry-run', body)
      .then((res) => replace(out, renderResult(res)))
      .catch((error) => replace(out, message(describeError(error), 'error')))
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}
