import { beforeEach, describe, expect, it } from 'vitest';
import { fail, mockApi, ok } from '../test/http';
import { ApiError, fetchAPI } from './api';
import { tokenStore } from './tokens';

describe('fetchAPI', () => {
  beforeEach(() => tokenStore.set({ access: 'access-1', refresh: 'refresh-1' }));

  it('returns the envelope data and sends the bearer token', async () => {
    const api = mockApi({ 'GET billing/credits/balance/balance/': () => ok({ credits: 5 }) });

    await expect(fetchAPI('billing/credits/balance/balance/')).resolves.toEqual({ credits: 5 });
    expect(api.requests[0].headers.get('Authorization')).toBe('Bearer access-1');
  });

  it('sends query parameters without the empty ones and the body as JSON', async () => {
    const api = mockApi({ 'POST account/team/': () => ok({ id: 2 }, 201) });

    await fetchAPI('account/team/', { method: 'POST', body: { email: 'a@b.test' }, query: { page: 2, type: '' } });
    expect(api.requests[0].url.search).toBe('?page=2');
    expect(api.requests[0].body).toEqual({ email: 'a@b.test' });
    expect(api.requests[0].headers.get('Content-Type')).toBe('application/json');
  });

  it('throws ApiError with the status, the message and the field errors', async () => {
    mockApi({ 'PATCH account/settings/': () => fail(400, 'Invalid input.', { billing_country: ['Not a country.'] }) });

    const error = await fetchAPI('account/settings/', { method: 'PATCH', body: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, message: 'Invalid input.', fieldErrors: { billing_country: ['Not a country.'] } });
  });

  it('turns a network failure into an ApiError with status 0', async () => {
    mockApi({ 'GET auth/me/': () => Promise.reject(new TypeError('Failed to fetch')) });

    await expect(fetchAPI('auth/me/')).rejects.toMatchObject({ status: 0 });
  });

  it('refreshes once on a 401, stores the rotated pair and retries with the new access token', async () => {
    const api = mockApi({
      'GET auth/me/': (request) =>
        request.headers.get('Authorization') === 'Bearer access-2' ? ok({ ok: true }) : fail(401, 'Token expired.'),
      'POST auth/refresh/': () => ok({ access: 'access-2', refresh: 'refresh-2' }),
    });

    await expect(fetchAPI('auth/me/')).resolves.toEqual({ ok: true });
    expect(api.calls('POST auth/refresh/')[0].body).toEqual({ refresh: 'refresh-1' });
    expect(api.calls('GET auth/me/')).toHaveLength(2);
    expect(tokenStore.get()).toEqual({ access: 'access-2', refresh: 'refresh-2' });
  });

  it('shares one refresh between concurrent 401s, because the old refresh token dies on rotation', async () => {
    const api = mockApi({
      'GET billing/invoices/': (request) =>
        request.headers.get('Authorization') === 'Bearer access-2' ? ok('invoices') : fail(401, 'Token expired.'),
      'GET billing/payments/': (request) =>
        request.headers.get('Authorization') === 'Bearer access-2' ? ok('payments') : fail(401, 'Token expired.'),
      'POST auth/refresh/': (request) =>
        (request.body as { refresh: string }).refresh === 'refresh-1'
          ? ok({ access: 'access-2', refresh: 'refresh-2' })
          : fail(401, 'Token is blacklisted.'),
    });

    const results = await Promise.all([fetchAPI('billing/invoices/'), fetchAPI('billing/payments/')]);
    expect(results).toEqual(['invoices', 'payments']);
    expect(api.calls('POST auth/refresh/')).toHaveLength(1);
  });

  it('clears the tokens and throws the 401 when the refresh fails', async () => {
    const api = mockApi({
      'GET auth/me/': () => fail(401, 'Token expired.'),
      'POST auth/refresh/': () => fail(401, 'Token is blacklisted.'),
    });

    await expect(fetchAPI('auth/me/')).rejects.toMatchObject({ status: 401, message: 'Token expired.' });
    expect(tokenStore.get()).toBeNull();
    expect(localStorage.length).toBe(0);
    expect(api.calls('GET auth/me/')).toHaveLength(1);
  });

  it('neither sends a token nor refreshes for the sign-in endpoints', async () => {
    const api = mockApi({ 'POST auth/login/': () => fail(401, 'Invalid email or password.') });

    await expect(fetchAPI('auth/login/', { method: 'POST', body: {}, auth: false })).rejects.toMatchObject({ status: 401 });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0].headers.get('Authorization')).toBeNull();
    expect(tokenStore.get()).not.toBeNull();
  });
});
