/** The admin API client: every call carries the operator's token as `x-admin-token`. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export class Api {
  /** Called when the gateway stops accepting the token (401), so the console can ask for it again. */
  onUnauthorized: (error: ApiError) => void = () => undefined;

  constructor(readonly token: string) {}

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', withQuery(path, query), undefined, signal);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** Raw fetch with the token (the live stream reads the body itself). */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('x-admin-token', this.token);
    return fetch(path, { ...init, headers, cache: 'no-store' });
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await this.fetch(path, {
        method,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(0, 'NETWORK_ERROR', 'The gateway could not be reached. Is it running?');
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const err = (data ?? {}) as { error?: string; message?: string; requestId?: string };
      const error = new ApiError(
        response.status,
        err.error ?? `HTTP_${response.status}`,
        err.message ?? `${method} ${path} answered ${response.status}.`,
        err.requestId ?? response.headers.get('x-request-id'),
      );
      if (response.status === 401) this.onUnauthorized(error);
      throw error;
    }
    return data as T;
  }
}

/** What `GET /api/admin/whoami` says about a token. */
export interface Identity {
  tokenId: string;
  scopes: string[];
  effectiveScopes: string[];
}

/** A human sentence for an API failure, with the code and request id an operator can quote. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const id = error.requestId ? ` (request ${error.requestId})` : '';
    return error.status === 0 ? error.message : `${error.message} [${error.code}]${id}`;
  }
  return `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
}
