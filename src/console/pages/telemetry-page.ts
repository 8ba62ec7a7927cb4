import { ApiError, describeError } from '../api.js';
import { barChart, columnChart, splitBar, stackedBars } from '../charts.js';
import { badge, type Child, facts, field, h, message, replace, table } from '../dom.js';
import { count, percent, timeEl } from '../format.js';
import { hashWith, type PageContext } from '../page.js';
import {
  compactionTrend,
  connectors,
  type Level,
  profileFields,
  profiles,
  rows,
  type TelemetrySnapshot,
  usage,
} from '../telemetry-shape.js';

const levelTone: Record<Level, string> = {
  healthy: 'ok',
  watch: 'watch',
  critical: 'critical',
  unknown: 'muted',
};
const riskTone: Record<string, string> = { restricted: 'critical', standard: 'info', trusted: 'ok' };
const levelNames: [string, string][] = [
  ['level', 'Overall'],
  ['failedStepLevel', 'Failed steps'],
  ['runtimeSuccessLevel', 'Runtime success'],
  ['cooldownSkipLevel', 'Cooldown skips'],
  ['autoCompactionLevel', 'Auto-compaction'],
];

function level(value: Level | undefined): Child {
  const v = value ?? 'unknown';
  return badge(v, levelTone[v] ?? 'muted');
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

function render(t: TelemetrySnapshot): HTMLElement {
  const s = t.sessions ?? {};
  const e = t.events ?? {};
  const a = t.attempts ?? { total: 0, success: 0, failed: 0, skippedCooldown: 0 };
  const trend = compactionTrend(t);
  const connectorRows = connectors(t);
  const profileRows = profiles(t);
  const policyRows = rows(t.connectorPolicies, ['connectorId']);
  const providers = usage(t.providerUsage, 'provider');
  const channels = usage(t.channelUsage, 'channel');
  return h(
    'div',
    { 'data-telemetry-state': 'loaded' },
    h(
      'div',
      {
        class: `level level-${t.health?.level ?? 'unknown'}`,
        'data-telemetry-level': t.health?.level ?? 'unknown',
      },
      h(
        'ul',
        { class: 'level-list' },
        levelNames.map(([key, label]) => h('li', {}, `${label}: `, level(t.health?.[key]))),
      ),
      h('p', { class: 'muted' }, `Window: last ${t.windowHours} h · generated `, timeEl(t.generatedAt)),
    ),
    h(
      'div',
      { class: 'columns' },
      section(
        'Sessions',
        facts([
          ['Total', count(s.total)],
          ['Active / closed', `${count(s.active)} / ${count(s.closed)}`],
          ['Needing attention', `${count(s.attention)} (${percent(s.attentionRate)})`],
          ['Stale', count(s.stale)],
          [
            'Compacted',
            `${count(s.compacted)} (${percent(s.compactionRate)}), auto ${count(s.autoCompacted)} (${percent(s.autoCompactedRate)})`,
          ],
        ]),
      ),
      section(
        'Events',
        facts([
          ['Total', count(e.total as number)],
          [
            'Draft-cycle steps',
            `${count(e.draftCycleStepEvents as number)}, failed ${count(e.failedStepEvents as number)} (${percent(e.failedStepRate as number)})`,
          ],
          [
            'Compactions',
            `${count(e.compactionEvents as number)}: auto ${count(e.autoCompactionEvents as number)}, manual ${count(e.manualCompactionEvents as number)}`,
          ],
          ['Auto-compaction share', percent(e.autoCompactionShare as number)],
          ['Events archived', count(e.prunedEventCount as number)],
        ]),
      ),
    ),
    section(
      'Compactions per hour (UTC)',
      trend.length === 0
        ? message('No compaction in this window.', 'empty')
        : columnChart(
            'Compactions per UTC hour, automatic and manual',
            trend.map((b) => ({
              label: b.label,
              stacks: [
                { label: 'automatic', value: b.auto, tone: 'tone-auto' },
                { label: 'manual', value: b.manual, tone: 'tone-manual' },
              ],
            })),
          ),
      h(
        'p',
        { class: 'legend' },
        h('span', { class: 'swatch tone-auto' }),
        ' automatic ',
        h('span', { class: 'swatch tone-manual' }),
        ' manual',
      ),
    ),
    section(
      'Attempt outcomes',
      splitBar('Provider attempts by outcome', [
        { label: 'success', value: a.success, tone: 'tone-ok' },
        { label: 'failed', value: a.failed, tone: 'tone-critical' },
        { label: 'skipped (cooldown)', value: a.skippedCooldown, tone: 'tone-watch' },
      ]),
      facts([
        ['Attempts', count(a.total)],
        ['Success', `${count(a.success)} (${percent(a.successRate)})`],
        ['Failed', `${count(a.failed)} (${percent(a.failureRate)})`],
        ['Skipped in cooldown', `${count(a.skippedCooldown)} (${percent(a.skippedRate)})`],
      ]),
    ),
    h(
      'div',
      { class: 'columns' },
      section(
        'Provider usage',
        providers.length
          ? barChart('Events or attempts per provider', providers)
          : message('No provider usage in this window.', 'empty'),
      ),
      section(
        'Channel usage',
        channels.length
          ? barChart('Sessions or events per channel', channels)
          : message('No channel usage in this window.', 'empty'),
      ),
    ),
    section(
      'Ingest connectors: accepted and rejected',
      connectorRows.length === 0
        ? message('No ingest traffic or connector configured in this window.', 'empty')
        : [
            stackedBars(
              'Ingest requests per connector: accepted, replayed, rejected',
              connectorRows.map((c) => ({
                label: c.connectorId,
                parts: [
                  { label: 'accepted', value: c.accepted, tone: 'tone-ok' },
                  { label: 'replayed', value: c.replayed, tone: 'tone-watch' },
                  { label: 'rejected', value: c.rejected, tone: 'tone-critical' },
                ],
              })),
            ),
            h(
              'p',
              { class: 'legend' },
              h('span', { class: 'swatch tone-ok' }),
              ' accepted ',
              h('span', { class: 'swatch tone-watch' }),
              ' replayed ',
              h('span', { class: 'swatch tone-critical' }),
              ' rejected',
            ),
            table(
              'Ingest outcomes per connector',
              ['Connector', 'Risk level', 'Accepted', 'Replayed', 'Rejected', 'Rejections by code'],
              connectorRows.map((c) => [
                [
                  h('strong', {}, c.connectorId),
                  c.channel ? h('small', { class: 'hint' }, ` ${c.channel}`) : null,
                ],
                badge(c.riskLevel, riskTone[c.riskLevel] ?? 'muted'),
                count(c.accepted),
                count(c.replayed),
                count(c.rejected),
                c.rejectCodes.length
                  ? h(
                      'ul',
                      { class: 'inline-list' },
                      c.rejectCodes.map(([code, n]) => h('li', {}, h('code', {}, code), ` ${n}`)),
                    )
                  : '—',
              ]),
              { 'data-table': 'connectors' },
            ),
          ],
    ),
    section(
      'Connector profiles',
      profileRows.length === 0
        ? message('No connector profile configured (AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES).', 'empty')
        : table(
            'Defaults each connector fills in when a request omits them',
            ['Connector', ...profileFields],
            profileRows.map((p) => [
              h('strong', {}, p.connectorId),
              ...profileFields.map((f) => p[f] || '—'),
            ]),
            { 'data-table': 'profiles' },
          ),
    ),
    policyRows.length === 0
      ? null
      : section(
          'Connector policies',
          table(
            'Per-connector ingest policies',
            ['Connector', 'Risk level', 'Settings'],
            policyRows.map((p) => [
              h('strong', {}, p.name),
              badge(String(p.riskLevel ?? 'standard'), riskTone[String(p.riskLevel)] ?? 'muted'),
              h(
                'code',
                {},
                JSON.stringify(
                  Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'name' && k !== 'riskLevel')),
                ),
              ),
            ]),
            { 'data-table': 'policies' },
          ),
        ),
  );
}

/** Telemetry (SPEC §8) with simple SVG charts; says so plainly when this gateway has no telemetry endpoint. */
export async function telemetryPage(ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const hours = h(
    'select',
    { name: 'hours' },
    ['1', '6', '24', '72', '168', '720'].map((v) =>
      h('option', { value: v, selected: (q.get('hours') ?? '24') === v }, `${v} h`),
    ),
  );
  const text = (name: string) => h('input', { name, type: 'text', value: q.get(name) ?? '' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Telemetry filters' },
    h(
      'div',
      { class: 'grid' },
      field('Window', hours),
      field('Channel', text('channel')),
      field('Provider', text('provider')),
      field('Connector', text('connector')),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')),
  );
  const out = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading telemetry…'));
  replace(ctx.root, h('h1', { tabindex: '-1' }, 'Telemetry'), form, out);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const query: Record<string, string> = {};
    for (const [k, v] of data.entries()) if (String(v).trim()) query[k] = String(v).trim();
    ctx.navigate(hashWith('telemetry', query));
  });

  try {
    const snapshot = await ctx.api.get<TelemetrySnapshot>('/api/admin/agent-gateway/telemetry', {
      hours: q.get('hours') ?? 24,
      limit: 200,
      channel: q.get('channel'),
      provider: q.get('provider'),
      connector: q.get('connector'),
    });
    replace(out, render(snapshot));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND') {
      replace(
        out,
        h(
          'div',
          { class: 'message message-empty', role: 'status', 'data-telemetry-state': 'unavailable' },
          h('p', {}, h('strong', {}, 'Telemetry is not available on this gateway yet.')),
          h(
            'p',
            {},
            'GET /api/admin/agent-gateway/telemetry answered 404: this version has no telemetry endpoint. Runtime, Sessions and Drafts work without it.',
          ),
        ),
      );
      return;
    }
    replace(out, message(describeError(error), 'error'));
  }
}
