import { Api, ApiError, describeError, type Identity } from './api.js';
import { h, message, replace } from './dom.js';
import type { Page, PageContext } from './page.js';
import { draftsPage } from './pages/drafts-page.js';
import { runtimePage } from './pages/runtime-page.js';
import { sessionPage } from './pages/session-page.js';
import { sessionsPage } from './pages/sessions-page.js';
import { telemetryPage } from './pages/telemetry-page.js';

const TOKEN_KEY = 'agw.adminToken';

const pages: Record<string, { title: string; page: (params: string[]) => Page }> = {
  runtime: { title: 'Runtime', page: () => runtimePage },
  sessions: { title: 'Sessions', page: (params) => (params.length > 0 ? sessionPage : sessionsPage) },
  drafts: { title: 'Drafts', page: () => draftsPage },
  telemetry: { title: 'Telemetry', page: () => telemetryPage },
};

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const identityBox = document.getElementById('identity') as HTMLElement;
const notice = document.getElementById('notice') as HTMLElement;

const cleanups: (() => void)[] = [];
let signedIn: { api: Api; identity: Identity } | undefined;

/** Route changes a notice still has to survive (one: a page that announces something, then navigates). */
let noticeRoutes = 0;

function notify(text: string, tone: 'info' | 'error' = 'info'): void {
  noticeRoutes = text ? 1 : 0;
  replace(notice, text ? h('p', { class: `message message-${tone}` }, text) : null);
}

function leavePage(): void {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      // a page's cleanup must not block the next page
    }
  }
}

function parseHash(): { name: string; params: string[]; query: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', search = ''] = raw.split('?');
  const [name = 'runtime', ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name, params, query: new URLSearchParams(search) };
}

async function route(moveFocus: boolean): Promise<void> {
  if (!signedIn) return;
  leavePage();
  if (noticeRoutes > 0) noticeRoutes -= 1;
  else notify('');
  const { name, params, query } = parseHash();
  const entry = pages[name];
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const root = h('section', { class: 'page', 'data-page': name });
  replace(main, root);
  if (!entry) {
    document.title = 'Not found · Agent Gateway console';
    replace(root, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/runtime' }, 'Go to Runtime')));
    return;
  }
  document.title = `${entry.title} · Agent Gateway console`;
  const ctx: PageContext = {
    ...signedIn,
    canOperate: signedIn.identity.effectiveScopes.includes('operate'),
    root,
    params,
    query,
    navigate: (hash) => {
      location.hash = hash;
    },
    onCleanup: (fn) => cleanups.push(fn),
    notify,
  };
  try {
    await entry.page(params)(ctx);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    root.appendChild(message(describeError(error), 'error'));
  }
  // Focus the new page's heading, unless the operator already moved into the page while it was loading (the
  // stream can be live and the timeline usable before the status request returns): never steal their focus.
  if (moveFocus && !root.contains(document.activeElement))
    (root.querySelector('h1') as HTMLElement | null)?.focus();
}

function showIdentity(identity: Identity): void {
  const readOnly = !identity.effectiveScopes.includes('operate');
  replace(
    identityBox,
    h(
      'span',
      { 'data-token-id': identity.tokenId },
      'Signed in as ',
      h('strong', {}, identity.tokenId),
      ` (${identity.effectiveScopes.join(', ')})`,
      readOnly ? h('span', { class: 'badge badge-muted' }, 'read-only') : null,
    ),
    h('button', { type: 'button', class: 'secondary', onclick: () => signOut('Signed out.') }, 'Sign out'),
  );
  identityBox.hidden = false;
  nav.hidden = false;
}

function signOut(reason: string, tone: 'info' | 'error' = 'info'): void {
  leavePage();
  sessionStorage.removeItem(TOKEN_KEY);
  signedIn = undefined;
  nav.hidden = true;
  identityBox.hidden = true;
  showSignIn(reason, tone);
}

/** Explains a refused token in words an operator can act on. */
function signInError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'ADMIN_TOKEN_INVALID')
      return 'This gateway did not accept that token (ADMIN_TOKEN_INVALID). Use the admin token printed when the gateway started (also in .data/admin-token), ADMIN_API_TOKEN, or a token from ADMIN_API_TOKENS.';
    if (error.code === 'ADMIN_TOKEN_NOT_CONFIGURED')
      return 'This gateway has no admin token configured, so its admin API is closed (ADMIN_TOKEN_NOT_CONFIGURED). Set ADMIN_API_TOKEN and restart it.';
  }
  return describeError(error);
}

async function signIn(token: string): Promise<void> {
  const api = new Api(token);
  const identity = await api.get<Identity>('/api/admin/whoami');
  api.onUnauthorized = () =>
    signOut('The gateway no longer accepts this token (ADMIN_TOKEN_INVALID). Sign in again.', 'error');
  sessionStorage.setItem(TOKEN_KEY, token);
  signedIn = { api, identity };
  showIdentity(identity);
  // No hashchange event for the default page: route once, below.
  if (!location.hash || location.hash === '#' || location.hash === '#/')
    history.replaceState(null, '', '#/runtime');
  await route(false);
}

function showSignIn(text?: string, tone: 'info' | 'error' = 'info'): void {
  document.title = 'Sign in · Agent Gateway console';
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const status = h('div', { class: 'sign-in-status' }, text ? message(text, tone) : null);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title', tabindex: '-1' }, 'Sign in'),
    h(
      'p',
      {},
      'Enter an admin token (the x-admin-token value). It is kept in this browser tab only (sessionStorage) and sent with every request.',
    ),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Admin token'), input),
    h('div', { class: 'actions' }, button),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    replace(status, h('p', { class: 'muted' }, 'Checking the token…'));
    signIn(token).catch((error) => {
      button.disabled = false;
      replace(status, message(signInError(error), 'error'));
      input.focus();
      input.select();
    });
  });
  replace(main, form);
  input.focus();
}

window.addEventListener('hashchange', () => void route(true));

const stored = sessionStorage.getItem(TOKEN_KEY);
if (stored) {
  signIn(stored).catch((error) => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(signInError(error), 'error');
  });
} else {
  showSignIn();
}
