import { describeError } from '../api.js';
import { badge, type Child, facts, h, message, replace, table } from '../dom.js';
import { count, duration, percent, timeEl } from '../format.js';
import type { PageContext } from '../page.js';
import { type RuntimeHealthInput, runtimeLevel } from '../runtime-level.js';
import { dryRunForm } from './dry-run-form.js';

interface ProfileState {
  profile: string;
  mode: string;
  model: string;
  cooldownUntil: string | null;
  coolingDown: boolean;
  circuit: string;
  failureCount?: number;
  lastFailureCode: string | null;
  reason: string | null;
}

export interface ProviderState {
  provider: string;
  kind: string;
  mode: string;
  modeReason?: string | null;
  model: string;
  cooldownUntil: string | null;
  coolingDown: boolean;
  circuit: string;
  activeProfile: string | null;
  lastFailureCode: string | null;
  reason: string | null;
  profiles: ProfileState[];
}

interface RuntimeHealth extends RuntimeHealthInput {
  generatedAt: string;
  roleStates: {
    role: string;
    providers: string[];
    availableProviders: string[];
    blockedProviders: string[];
    hasAvailableProvider: boolean;
  }[];
  providers: ProviderState[];
  circuitStore?: string;
  httpAdapters?: boolean;
}

interface Ready {
  status: string;
  db?: string;
  redis?: string;
  migrations?: string;
}

const REFRESH_MS = 10_000;
const levelTone = { healthy: 'ok', watch: 'watch', critical: 'critical' } as const;
const circuitTone: Record<string, string> = { closed: 'ok', half_open: 'watch', open: 'critical' };

/** A `<span>` that counts down to `until`, updated every second by the page's ticker. */
function countdown(until: string | null): Child {
  if (!until) return '—';
  return h('span', {}, timeEl(until), ' ', h('span', { class: 'countdown', 'data-until': until }, ''));
}

function tickCountdowns(root: HTMLElement, onExpired: () => void): void {
  let expired = false;
  for (const el of root.querySelectorAll<HTMLElement>('.countdown')) {
    const left = new Date(el.dataset.until ?? '').getTime() - Date.now();
    const text = left > 0 ? `(in ${duration(left)})` : '(cooldown over: next call is the probe)';
    if (el.textContent !== text) el.textContent = text;
    if (left <= 0 && !el.dataset.expired) {
      el.dataset.expired = 'true';
      expired = true;
    }
  }
  if (expired) onExpired();
}

function modeMarker(p: { mode: string; modeReason?: string | null }): Child {
  return p.mode === 'deterministic'
    ? badge('deterministic', 'muted', p.modeReason ? `Deterministic: ${p.modeReason}` : 'Deterministic')
    : badge('live', 'info');
}

function providerRows(providers: ProviderState[]): Child[][] {
  return providers.flatMap((p) => {
    const main: Child[] = [
      h('strong', {}, p.provider),
      p.kind,
      [
        modeMarker(p),
        p.mode === 'deterministic' && p.modeReason ? h('small', { class: 'hint' }, ` ${p.modeReason}`) : null,
      ],
      p.model,
      [
        badge(p.circuit.replace('_', '-'), circuitTone[p.circuit] ?? 'muted'),
        p.coolingDown ? badge('cooling down', 'watch') : null,
      ],
      p.reason || p.lastFailureCode
        ? [p.lastFailureCode ? h('code', {}, p.lastFailureCode) : null, p.reason ? ` ${p.reason}` : null]
        : '—',
      countdown(p.cooldownUntil),
      p.activeProfile ?? '—',
    ];
    if (p.profiles.length <= 1) return [main];
    return [
      main,
      ...p.profiles.map((pr): Child[] => [
        h('span', { class: 'sub' }, `↳ ${p.provider}@${pr.profile}`),
        '',
        modeMarker(pr),
        pr.model,
        badge(pr.circuit.replace('_', '-'), circuitTone[pr.circuit] ?? 'muted'),
        pr.reason || pr.lastFailureCode
          ? [
              pr.lastFailureCode ? h('code', {}, pr.lastFailureCode) : null,
              pr.reason ? ` ${pr.reason}` : null,
            ]
          : '—',
        countdown(pr.cooldownUntil),
        '',
      ]),
    ];
  });
}

function renderHealth(health: RuntimeHealth, ready: Ready | null): HTMLElement {
  const { level, reasons } = runtimeLevel(health);
  const s = health.summary;
  const allDeterministic = s.deterministicProviders === s.providerCount && s.providerCount > 0;
  return h(
    'div',
    {},
    h(
      'div',
      { class: `level level-${level}`, 'data-runtime-level': level },
      h('span', { class: `badge badge-${levelTone[level]} badge-large` }, level),
      h(
        'ul',
        { class: 'reasons' },
        reasons.map((r) => h('li', {}, r)),
      ),
    ),
    allDeterministic
      ? message(
          'Every provider runs in deterministic mode: no live model is called (set AI_RUNTIME_USE_HTTP_ADAPTERS=true and provider endpoints/keys for live ones).',
          'info',
        )
      : null,
    facts([
      ['Runtime health', badge(s.health, s.health === 'ok' ? 'ok' : 'critical')],
      ['Roles blocked', `${s.rolesBlocked} of ${s.roleCount}`],
      ['Providers ready', `${s.providersReady} of ${s.providerCount}`],
      ['Cooling down', `${count(s.providersCoolingDown)} (${percent(s.coolingDownShare)} of the pool)`],
      ['Deterministic providers', count(s.deterministicProviders)],
      [
        'Circuit store',
        `${health.circuitStore ?? '—'}${health.circuitMirror ? `, mirror ${health.circuitMirror}` : ''}${health.circuitStoreError ? ` (error: ${health.circuitStoreError})` : ''}`,
      ],
      [
        'Gateway readiness',
        ready
          ? [
              badge(ready.status, ready.status === 'ok' ? 'ok' : 'critical'),
              ` db ${ready.db ?? '?'} · redis ${ready.redis ?? '?'} · migrations ${ready.migrations ?? '?'}`,
            ]
          : 'unknown',
      ],
      ['Snapshot', timeEl(health.generatedAt)],
    ]),
    h('h2', {}, 'Roles'),
    table(
      'Each role’s provider chain, in failover order',
      ['Role', 'Status', 'Chain (in order)', 'Available', 'Blocked'],
      health.roleStates.map((r) => [
        h('strong', {}, r.role),
        r.hasAvailableProvider ? badge('available', 'ok') : badge('blocked', 'critical'),
        h(
          'ol',
          { class: 'chain' },
          r.providers.map((p) =>
            h(
              'li',
              {},
              badge(
                p,
                r.availableProviders.includes(p) ? 'ok' : 'critical',
                r.availableProviders.includes(p) ? 'available' : 'blocked',
              ),
            ),
          ),
        ),
        r.availableProviders.join(', ') || '—',
        r.blockedProviders.join(', ') || '—',
      ]),
      { 'data-table': 'roles' },
    ),
    h('h2', {}, 'Providers and circuits'),
    table(
      'Provider circuits: state, last failure and cooldown',
      [
        'Provider',
        'Kind',
        'Mode',
        'Model',
        'Circuit',
        'Last failure / reason',
        'Cooldown until',
        'Active profile',
      ],
      providerRows(health.providers),
      { 'data-table': 'providers' },
    ),
  );
}

/** Runtime: the runbook's first three checks at a glance, refreshed every 10 s, plus the dry-run probe. */
export async function runtimePage(ctx: PageContext): Promise<void> {
  const body = h('div', { 'aria-live': 'off' });
  const refreshed = h('span', { class: 'muted' });
  const refreshButton = h('button', { type: 'button', class: 'secondary' }, 'Refresh now');
  replace(
    ctx.root,
    h('h1', { tabindex: '-1' }, 'Runtime'),
    h('div', { class: 'toolbar' }, refreshButton, refreshed),
    body,
    ctx.canOperate ? dryRunForm(ctx) : null,
  );

  let loading = false;
  const load = async () => {
    if (loading) return;
    loading = true;
    try {
      const [health, ready] = await Promise.all([
        ctx.api.get<RuntimeHealth>('/api/admin/ai-runtime/health'),
        fetch('/ready', { cache: 'no-store' })
          .then((r) => r.json() as Promise<Ready>)
          .catch(() => null),
      ]);
      replace(body, renderHealth(health, ready));
      refreshed.textContent = ` Updated ${new Date().toISOString().slice(11, 19)}Z; refreshes every ${REFRESH_MS / 1000} s.`;
      tickCountdowns(body, () => undefined);
    } catch (error) {
      replace(body, message(`Runtime health could not be loaded: ${describeError(error)}`, 'error'));
    } finally {
      loading = false;
    }
  };
  refreshButton.addEventListener('click', () => void load());
  const refresh = setInterval(() => void load(), REFRESH_MS);
  const ticker = setInterval(() => tickCountdowns(body, () => void load()), 1000);
  ctx.onCleanup(() => {
    clearInterval(refresh);
    clearInterval(ticker);
  });
  await load();
}
