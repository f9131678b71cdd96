// A stand-in for the API at the fetch boundary: tests stub globalThis.fetch, never the service modules.
import { vi } from 'vitest';

export interface MockRequest {
  method: string;
  path: string; // without /api/v1/, e.g. "billing/invoices/"
  url: URL;
  headers: Headers;
  body: unknown;
}

type Handler = (request: MockRequest) => Response | Promise<Response>;
export type Routes = Record<string, Handler>;

export const ok = (data: unknown, status = 200) =>
  new Response(JSON.stringify({ success: true, data }), { status, headers: { 'Content-Type': 'application/json' } });

export const fail = (status: number, error: string, errors: Record<string, string[]> = {}) =>
  new Response(JSON.stringify({ success: false, error, errors, request_id: 'test' }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });

export const page = <T>(results: T[], { next = null, previous = null }: { next?: string | null; previous?: string | null } = {}) => ({
  results,
  count: results.length,
  next,
  previous,
});

/** A response that never arrives, to see loading states. */
export const never = () => new Promise<Response>(() => {});

/** Stubs fetch with routes keyed "METHOD path", e.g. "GET billing/invoices/". Unknown routes answer 404. */
export function mockApi(routes: Routes) {
  const requests: MockRequest[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/^\/api\/v1\//, '');
    const request: MockRequest = {
      method,
      path,
      url,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const handler = routes[`${method} ${path}`];
    return handler ? handler(request) : fail(404, `No mock for ${method} ${path}`);
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    fetchMock,
    requests,
    /** Requests to one route, in order. */
    calls: (key: string) => requests.filter((r) => `${r.method} ${r.path}` === key),
  };
}
