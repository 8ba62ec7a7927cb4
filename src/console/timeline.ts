import type { Api } from './api.js';
import { describeError } from './api.js';
import { badge, type Child, h, message, replace } from './dom.js';
import { duration, pretty, timeEl } from './format.js';
import { followStream, type StreamState } from './sse.js';

export interface SessionEvent {
  id: string;
  sessionId: string;
  seq: number;
  fromRole: string;
  toRole: string | null;
  type: string;
  payload: unknown;
  createdAt: string;
  archived?: boolean;
}

export interface SessionRecord {
  id: string;
  channel: string;
  externalSessionId: string | null;
  draftId: string | null;
  connectorId?: string | null;
  roles: string[];
  status: 'active' | 'closed';
  createdAt: string;
  updatedAt: string;
  lastEventAt: string | null;
  eventCount: number;
  archivedCount?: number;
  stale?: boolean;
  needsAttention?: boolean;
}

type Payload = Record<string, unknown>;

const stateText: Record<StreamState, string> = {
  connecting: 'Connecting to the live stream…',
  live: 'Live: new events appear as they are written',
  reconnecting: 'Stream interrupted; reconnecting (resumes from the last event seen)…',
  ended: 'Stream ended: the session is closed',
  failed: 'Live stream unavailable',
};

/** One line that says what an event means, so the payload only needs opening for details. */
export function eventGist(event: SessionEvent): Child {
  const p = (event.payload ?? {}) as Payload;
  if (/^draft_cycle_(critic|maker|judge)_completed$/.test(event.type)) {
    const attempts = Array.isArray(p.attempts) ? p.attempts.length : 0;
    return [
      p.failed ? badge('failed', 'critical') : badge('ok', 'ok'),
      ` ${String(p.selectedProvider ?? 'no provider')} · ${duration(Number(p.latencyMs ?? 0))} · ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    ];
  }
  if (event.type === 'draft_cycle_completed') {
    const v = (p.verdict ?? {}) as Payload;
    return `verdict ${String(v.verdict ?? '?')} (confidence ${String(v.confidence ?? '?')})${p.revision ? ` → revision ${String(p.revision)}` : ''}`;
  }
  if (event.type === 'draft_cycle_failed') return `failed at ${String(p.failedRole ?? '?')}`;
  if (event.type === 'session_compacted')
    return `pruned ${String(p.prunedCount ?? '?')}, kept ${String(p.keptCount ?? '?')}${p.reason ? ` (${String(p.reason)})` : ''}`;
  if (event.type === 'session_closed') return `reason: ${String(p.reason ?? '—')}`;
  return null;
}

export interface TimelineOptions {
  includeArchived?: boolean;
  onEvent?(event: SessionEvent, live: boolean): void;
  onSession?(session: SessionRecord): void;
}

/**
 * A session's timeline: the latest events from `GET …/sessions/:id`, then new ones from the live stream (resumed
 * from the last seq shown). Events are de-duplicated by seq; each row says whether it came live (`data-via`).
 */
export class Timeline {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly status: HTMLParagraphElement;
  private readonly note: HTMLParagraphElement;
  private seen = new Set<number>();
  private closed = false;
  private stop: (() => void) | undefined;

  constructor(
    private readonly api: Api,
    private readonly sessionId: string,
    private readonly options: TimelineOptions = {},
  ) {
    this.status = h('p', { class: 'stream-status', role: 'status', 'data-stream-state': 'connecting' });
    this.note = h('p', { class: 'muted' });
    this.list = h('ol', { class: 'timeline', 'aria-label': 'Session events, oldest first' });
    this.element = h('div', { class: 'timeline-wrap' }, this.status, this.note, this.list);
  }

  async start(): Promise<void> {
    this.dispose();
    this.seen.clear();
    this.closed = false;
    replace(this.list);
    try {
      const detail = await this.api.get<{ session: SessionRecord; events: SessionEvent[] }>(
        `/api/admin/agent-gateway/sessions/${this.sessionId}`,
        { limit: 200, includeArchived: this.options.includeArchived ? 'true' : undefined },
      );
      this.options.onSession?.(detail.session);
      const shown = detail.events.length;
      this.note.textContent =
        detail.session.eventCount > shown
          ? `Showing the latest ${shown} of ${detail.session.eventCount} events.`
          : '';
      for (const event of detail.events) this.add(event, false);
      const lastSeq = detail.events.reduce((max, e) => Math.max(max, e.seq), 0);
      if (detail.session.status === 'closed') {
        this.closed = true;
        this.setState('ended');
        return;
      }
      this.stop = followStream(this.api, `/api/admin/agent-gateway/sessions/${this.sessionId}/stream`, {
        lastEventId: lastSeq,
        isFinished: () => this.closed,
        onState: (state, detailText) => this.setState(state, detailText),
        onMessage: (msg) => {
          let event: SessionEvent;
          try {
            event = JSON.parse(msg.data) as SessionEvent;
          } catch {
            return;
          }
          if (event.type === 'session_closed') this.closed = true;
          this.add(event, true);
        },
      });
    } catch (error) {
      this.setState('failed', describeError(error));
    }
  }

  /** Reloads with or without the archived (compacted) events. */
  showArchived(include: boolean): Promise<void> {
    this.options.includeArchived = include;
    return this.start();
  }

  dispose(): void {
    this.stop?.();
    this.stop = undefined;
  }

  private setState(state: StreamState, detail?: string): void {
    this.status.dataset.streamState = state;
    replace(
      this.status,
      h('span', { class: `dot dot-${state}`, 'aria-hidden': 'true' }),
      ` ${stateText[state]}${detail ? `: ${detail}` : ''}`,
    );
  }

  private add(event: SessionEvent, live: boolean): void {
    if (this.seen.has(event.seq)) return;
    this.seen.add(event.seq);
    const row = h(
      'li',
      {
        class: `event${event.archived ? ' event-archived' : ''}${live ? ' event-live' : ''}`,
        'data-seq': event.seq,
        'data-event-type': event.type,
        'data-via': live ? 'stream' : 'load',
      },
      h(
        'div',
        { class: 'event-head' },
        h('span', { class: 'seq' }, `#${event.seq}`),
        h('code', { class: 'event-type' }, event.type),
        h('span', { class: 'roles' }, `${event.fromRole} → ${event.toRole ?? '—'}`),
        timeEl(event.createdAt),
        event.archived ? badge('archived', 'muted') : null,
        live ? badge('live', 'info', 'Arrived over the live stream') : null,
      ),
      h('div', { class: 'event-gist' }, eventGist(event)),
      h(
        'details',
        {},
        h('summary', {}, `Payload of #${event.seq}`),
        h('pre', { class: 'payload' }, pretty(event.payload)),
      ),
    );
    // Keep seq order even if a resumed stream replays an older event.
    const after = [...this.list.children].find((li) => Number((li as HTMLElement).dataset.seq) > event.seq);
    this.list.insertBefore(row, after ?? null);
    this.options.onEvent?.(event, live);
  }

  /** A message in place of the list (e.g. a failed reload). */
  showError(text: string): void {
    replace(this.list, h('li', {}, message(text, 'error')));
  }
}
