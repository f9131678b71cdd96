import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { account } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const pack = {
  id: 7,
  name: 'Starter',
  slug: 'starter',
  credits: 500,
  price: '9.00',
  currency: 'USD',
  description: '',
  is_active: true,
  is_featured: false,
  sort_order: 0,
};

const noCard = {
  is_enabled: false,
  status: 'no_card',
  threshold: 0,
  package_id: null,
  package: null,
  max_per_month: null,
  max_amount_per_month: null,
  paused_reason: '',
  paused_at: null,
  card: null,
  card_methods: ['sandbox'],
  this_month: { count: 0, amount: '0.00', currency: '' },
};

const card = { provider: 'sandbox', brand: 'visa', last4: '4242', saved_at: '2026-12-01T10:00:00Z' };

const base = {
  'GET account/settings/': () => ok(account),
  'GET billing/notifications/': () =>
    ok({ low_balance_threshold: 0, email_low_balance: true, email_depleted: true, email_expiring: true, expiring_notice_days: 7 }),
  'GET webhooks/events/': () => ok(page([])),
  'GET webhooks/endpoints/': () => ok(page([])),
  'GET webhooks/event-types/': () => ok([]),
  'GET billing/credit-packages/': () => ok(page([pack])),
};

describe('AutoTopUpSection', () => {
  it('shows a loading state', async () => {
    renderApp('/account/settings', { ...base, 'GET billing/auto-top-up/': never });
    expect(await screen.findByText('Loading auto top-up…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/settings', { ...base, 'GET billing/auto-top-up/': () => fail(500, 'Boom.') });
    expect(await screen.findByText('Could not load auto top-up: Boom.')).toBeInTheDocument();
  });

  it('saves a sandbox card, then turns the rule on with a package and limits', async () => {
    const withCard = { ...noCard, status: 'disabled', card };
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET billing/auto-top-up/': () => ok(noCard),
      'POST billing/auto-top-up/card/': () => ok({ next_action: { type: 'completed' }, auto_top_up: withCard }),
      'PUT billing/auto-top-up/': (request) =>
        ok({ ...withCard, ...(request.body as object), status: 'active', package: pack }),
    });
    await user.click(await screen.findByRole('button', { name: 'Save a sandbox test card' }));
    expect(await screen.findByText('visa ···· 4242')).toBeInTheDocument();
    expect(api.calls('POST billing/auto-top-up/card/')[0].body).toEqual({ payment_method: 'sandbox' });

    await user.type(screen.getByLabelText('Buy when the balance falls below (credits)'), '300');
    await user.selectOptions(screen.getByLabelText('Package to buy'), '7');
    await user.type(screen.getByLabelText('At most this many top-ups a month'), '2');
    await user.click(screen.getByRole('button', { name: 'Turn on auto top-up' }));

    expect(await screen.findByText('Active')).toBeInTheDocument();
    expect(api.calls('PUT billing/auto-top-up/')[0].body).toEqual({
      is_enabled: true,
      threshold: 300,
      package_id: 7,
      max_per_month: 2,
      max_amount_per_month: null,
    });
  });

  it('shows why it is paused and resumes it', async () => {
    const paused = {
      ...noCard,
      is_enabled: true,
      status: 'paused',
      threshold: 300,
      package_id: 7,
      package: pack,
      card,
      paused_reason: 'The card was not charged: Your card was declined.',
      paused_at: '2026-12-01T10:00:00Z',
      this_month: { count: 1, amount: '9.00', currency: 'USD' },
    };
    const { user, api } = renderApp('/account/settings', {
      ...base,
      'GET billing/auto-top-up/': () => ok(paused),
      'PUT billing/auto-top-up/': () => ok({ ...paused, status: 'active', paused_reason: '', paused_at: null }),
    });
    expect(await screen.findByRole('alert')).toHaveTextContent('Your card was declined.');
    await user.click(screen.getByRole('button', { name: 'Resume auto top-up' }));
    expect(await screen.findByText('Active')).toBeInTheDocument();
    expect(api.calls('PUT billing/auto-top-up/')[0].body).toMatchObject({ is_enabled: true, threshold: 300, package_id: 7 });
  });

  it("shows the API's field errors", async () => {
    const { user } = renderApp('/account/settings', {
      ...base,
      'GET billing/auto-top-up/': () => ok(noCard),
      'PUT billing/auto-top-up/': () => fail(400, 'Invalid input.', { is_enabled: ['Save a card first.'] }),
    });
    await user.click(await screen.findByRole('button', { name: 'Turn on auto top-up' }));
    expect(await screen.findByText('Auto top-up: Save a card first.')).toBeInTheDocument();
  });

  it('is read-only for admins and hidden from members', async () => {
    renderApp('/account/settings', { ...base, 'GET billing/auto-top-up/': () => ok({ ...noCard, card }) }, { role: 'admin' });
    expect(await screen.findByLabelText('Package to buy')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Turn on auto top-up' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /sandbox test card/ })).not.toBeInTheDocument();
  });
});
