import { tokenStore } from './tokens';

export const API_BASE = '/api/v1';

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: FieldErrors;

  constructor(status: number, message: string, fieldErrors: FieldErrors = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fieldErrors = fieldErrors;
  }
}

export type QueryParams = Record<string, string | number | undefined | null>;

export interface ApiOptions extends Omit<RequestInit, 'body'> {
  /** Sent as JSON. */
  body?: unknown;
  query?: QueryParams;
  /** false for the sign-in endpoints: no bearer header, and a 401 is an answer, not an expired token. */
  auth?: boolean;
}

export function apiUrl(path: string, query?: QueryParams): string {
  const search = new URLSearchParams();
  Object.entries(query ?? {}).forEach(([key, value]) => {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  });
  const qs = search.toString();
  return `${API_BASE}/${path.replace(/^\//, '')}${qs ? `?${qs}` : ''}`;
}

// One refresh in flight at a time: concurrent 401s wait for the same promise, because the
// refresh token rotates and a second refresh with the old one would be rejected.
let refreshing: Promise<boolean> | null = null;

async function refreshTokens(): Promise<boolean> {
  const refresh = tokenStore.get()?.refresh;
  if (!refresh) return false;
  try {
    const response = await fetch(apiUrl('auth/refresh/'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refresh }),
    });
    if (!response.ok) return false;
    const data = unwrap<{ access: string; refresh?: string }>(await response.json());
    tokenStore.set({ access: data.access, refresh: data.refresh ?? refresh });
    return true;
  } catch {
    return false;
  }
}

function refreshOnce(): Promise<boolean> {
  refreshing ??= refreshTokens().then((ok) => {
    if (!ok) tokenStore.clear(); // RequireAuth sees the cleared session and sends the user to /login.
    return ok;
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** fetch with the bearer header; on a 401 refreshes the tokens once and retries once. */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const send = (access: string | undefined) => {
    const headers = new Headers(init.headers);
    if (access) headers.set('Authorization', `Bearer ${access}`);
    return fetch(url, { ...init, headers });
  };
  const usedAccess = tokenStore.get()?.access;
  const response = await send(usedAccess);
  if (response.status !== 401 || !usedAccess) return response;

  // Another request may already have refreshed while this one was in flight.
  const current = tokenStore.get()?.access;
  const refreshed = current && current !== usedAccess ? true : await refreshOnce();
  return refreshed ? send(tokenStore.get()?.access) : response;
}

interface Envelope<T> {
  success: boolean;
  data?: T;
  error?: string;
  errors?: FieldErrors;
}

function unwrap<T>(body: unknown): T {
  const envelope = body as Envelope<T>;
  return (envelope && typeof envelope === 'object' && 'success' in envelope ? envelope.data : body) as T;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function toApiError(response: Response): Promise<ApiError> {
  const body = await readBody(response);
  const envelope = (body && typeof body === 'object' ? body : {}) as Envelope<unknown>;
  const message = envelope.error || response.statusText || `Request failed (${response.status})`;
  return new ApiError(response.status, message, envelope.errors ?? {});
}

/** Calls the API and returns the envelope's `data`; throws ApiError for any non-2xx answer. */
export async function fetchAPI<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const { body, query, auth = true, headers, ...init } = options;
  const allHeaders = new Headers(headers);
  allHeaders.set('Accept', 'application/json');
  if (body !== undefined) allHeaders.set('Content-Type', 'application/json');
  const request: RequestInit = {
    ...init,
    headers: allHeaders,
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  const url = apiUrl(path, query);

  let response: Response;
  try {
    response = auth ? await authorizedFetch(url, request) : await fetch(url, request);
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
  if (!response.ok) throw await toApiError(response);
  return unwrap<T>(await readBody(response));
}

/** Human-readable message for any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : 'Something went wrong.';
}
