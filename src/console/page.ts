import type { Api, Identity } from './api.js';

/** What every page gets from the shell. */
export interface PageContext {
  api: Api;
  identity: Identity;
  /** True when the token has the `operate` scope; mutation controls are only rendered then. */
  canOperate: boolean;
  /** The page's own container (detached when the operator navigates away). */
  root: HTMLElement;
  /** Path segments after the page name: `#/sessions/ags-…` → `['ags-…']`. */
  params: string[];
  query: URLSearchParams;
  navigate(hash: string): void;
  /** Runs when the page is left (stop streams, timers). */
  onCleanup(fn: () => void): void;
  /** A short announcement in the shared live region. */
  notify(text: string, tone?: 'info' | 'error'): void;
}

export type Page = (ctx: PageContext) => Promise<void> | void;

/** `#/sessions?status=active` with the given query (empty values dropped). */
export function hashWith(path: string, query: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  const text = params.toString();
  return `#/${path}${text ? `?${text}` : ''}`;
}
