import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { account } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const settings = {
  low_balance_threshold: 0,
  email_low_balance: true,
  email_depleted: true,
  email_expiring: true,
  expiring_notice_days: 7,
};

const base = {
  'GET account/settings/': () => ok(account),
  'GET webhooks/endpoints/': () => ok(page([])),
  'GET webhooks/event-types/': () => ok([]),
};

describe('NotificationsSection', () => {
  it('shows a loading state', async () => {
    renderApp('/account/settings', { ...base, 'GET billing/notifications/': never, 'GET webhooks/events/': never });
    expect(await screen.findByText('Loading notification settings…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/settings', {
      ...base,
      'GET billing/notifications/': () => fail(500, 'Boom.'),
      'GET webhooks/events/': () => ok(page([])),
    });
    expect(await screen.findByText('Could not load notification settings: Boom.')).toBeInTheDocument();
  });

  it('saves a new threshold and a switch, sending only what changed', async () => {
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET billing/notifications/': () => ok(settings),
      'PATCH billing/notifications/': (request) => ok({ ...settings, ...(request.body as object) }),
      'GET webhooks/events/': () => ok(page([])),
    });
    const threshold = await screen.findByLabelText('Low-balance threshold (credits)');
    await user.clear(threshold);
    await user.type(threshold, '250');
    await user.click(screen.getByLabelText('Email when the balance reaches zero'));
    await user.click(screen.getByRole('button', { name: 'Save notifications' }));

    expect(await screen.findByText('Notification settings saved.')).toBeInTheDocument();
    expect(api.calls('PATCH billing/notifications/')[0].body).toEqual({ low_balance_threshold: 250, email_depleted: false });
    expect(screen.getByText('No alerts yet.')).toBeInTheDocument();
  });

  it("shows the API's field errors", async () => {
    const { user } = renderApp('/account/settings', {
      ...base,
      'GET billing/notifications/': () => ok(settings),
      'PATCH billing/notifications/': () =>
        fail(400, 'Invalid input.', { expiring_notice_days: ['Ensure this value is less than or equal to 90.'] }),
      'GET webhooks/events/': () => ok(page([])),
    });
    const days = await screen.findByLabelText('Expiry notice (days)');
    await user.clear(days);
    await user.type(days, '365');
    await user.click(screen.getByRole('button', { name: 'Save notifications' }));
    expect(await screen.findByText('Ensure this value is less than or equal to 90.')).toBeInTheDocument();
    expect(screen.getByLabelText('Expiry notice (days)')).toHaveAttribute('aria-invalid', 'true');
  });

  it('lists recent balance alerts', async () => {
    renderApp('/account/settings', {
      ...base,
      'GET billing/notifications/': () => ok({ ...settings, low_balance_threshold: 100 }),
      'GET webhooks/events/': () =>
        ok(
          page([
            { id: 'e1', type: 'balance.low', data: { balance: 90, threshold: 100 }, created_at: '2026-12-01T10:00:00Z' },
            { id: 'e2', type: 'payment.succeeded', data: {}, created_at: '2026-12-01T09:00:00Z' },
          ]),
        ),
    });
    const list = await screen.findByRole('list', { name: 'Recent alerts' });
    expect(list).toHaveTextContent('balance.low · Balance fell to 90 credits (threshold 100)');
    expect(list).not.toHaveTextContent('payment.succeeded');
  });

  it('is read-only for viewers, who see no alerts list and no webhooks', async () => {
    renderApp('/account/settings', { ...base, 'GET billing/notifications/': () => ok(settings) }, { role: 'viewer' });
    expect(await screen.findByLabelText('Low-balance threshold (credits)')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save notifications' })).not.toBeInTheDocument();
    expect(screen.queryByText('Recent alerts')).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Webhooks' })).not.toBeInTheDocument();
  });
});
