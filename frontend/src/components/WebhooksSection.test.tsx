import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { account } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const endpoint = {
  id: 3,
  url: 'https://hooks.example.com/creditdesk',
  description: 'ops',
  event_types: ['balance.low'],
  is_enabled: true,
  consecutive_failures: 0,
  disabled_reason: '',
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
};

const delivery = {
  id: 11,
  event_id: 'e1',
  event_type: 'balance.low',
  endpoint_id: 3,
  status: 'failed',
  attempts: 10,
  last_status_code: 500,
  last_error: '',
  next_attempt_at: null,
  delivered_at: null,
  created_at: '2026-12-01T10:00:00Z',
  attempt_log: [{ number: 10, status_code: 500, duration_ms: 42, error: '', created_at: '2026-12-01T10:00:00Z' }],
};

const base = {
  'GET account/settings/': () => ok(account),
  'GET billing/notifications/': never,
  'GET webhooks/events/': never,
  'GET webhooks/event-types/': () =>
    ok([
      { type: 'balance.low', description: 'low' },
      { type: 'invoice.paid', description: 'paid' },
      { type: 'webhook.test', description: 'test' },
    ]),
};

describe('WebhooksSection', () => {
  it('shows a loading and an empty state', async () => {
    renderApp('/account/settings', { ...base, 'GET webhooks/endpoints/': () => ok(page([])) });
    expect(await screen.findByText('No endpoints yet.')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/settings', { ...base, 'GET webhooks/endpoints/': () => fail(500, 'Boom.') });
    expect(await screen.findByText('Could not load webhook endpoints: Boom.')).toBeInTheDocument();
  });

  it('adds an endpoint for chosen events and shows its secret once', async () => {
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET webhooks/endpoints/': () => ok(page([])),
      'POST webhooks/endpoints/': (request) =>
        ok({ ...endpoint, ...(request.body as object), secret: 'whsec_c2VjcmV0' }, 201),
    });
    await user.type(await screen.findByLabelText('Endpoint URL'), endpoint.url);
    expect(screen.queryByLabelText('webhook.test')).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('invoice.paid'));
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));

    expect(await screen.findByTestId('webhook-secret')).toHaveTextContent('whsec_c2VjcmV0');
    expect(api.calls('POST webhooks/endpoints/')[0].body).toEqual({
      url: endpoint.url,
      description: '',
      event_types: ['invoice.paid'],
    });
    await user.click(screen.getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByTestId('webhook-secret')).not.toBeInTheDocument();
  });

  it("shows the API's error on the URL", async () => {
    const { user } = renderApp('/account/settings', {
      ...base,
      'GET webhooks/endpoints/': () => ok(page([])),
      'POST webhooks/endpoints/': () => fail(400, 'Invalid input.', { url: ['The URL must use https.'] }),
    });
    await user.type(await screen.findByLabelText('Endpoint URL'), 'http://example.com');
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByText('The URL must use https.')).toBeInTheDocument();
  });

  it('sends a test event, shows the delivery log and resends a delivery', async () => {
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET webhooks/endpoints/': () => ok(page([endpoint])),
      'POST webhooks/endpoints/3/test/': () => ok({ ...delivery, id: 12, status: 'pending', attempt_log: [] }, 202),
      'GET webhooks/deliveries/': () => ok(page([delivery])),
      'POST webhooks/deliveries/11/resend/': () => ok({ ...delivery, id: 13 }, 202),
    });
    await user.click(await screen.findByRole('button', { name: 'Send test event' }));
    expect(await screen.findByText('Test event queued.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Delivery log' }));
    const row = (await screen.findByRole('cell', { name: 'HTTP 500 in 42 ms' })).closest('tr')!;
    expect(within(row).getByText('balance.low')).toBeInTheDocument();
    expect(api.calls('GET webhooks/deliveries/')[0].url.searchParams.get('endpoint')).toBe('3');
    await user.click(within(row).getByRole('button', { name: 'Resend' }));
    expect(api.calls('POST webhooks/deliveries/11/resend/')).toHaveLength(1);
  });

  it('re-enables a disabled endpoint and shows why it was disabled', async () => {
    const disabled = { ...endpoint, is_enabled: false, disabled_reason: 'Disabled after 100 failed attempts.' };
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET webhooks/endpoints/': () => ok(page([disabled])),
      'PATCH webhooks/endpoints/3/': () => ok(endpoint),
    });
    expect(await screen.findByText('Disabled after 100 failed attempts.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Enable' }));
    expect(api.calls('PATCH webhooks/endpoints/3/')[0].body).toEqual({ is_enabled: true });
  });
});
