import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { balance, invoice, payment } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

describe('AccountBillingPage', () => {
  it('shows loading states while the data is on its way', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': never,
      'GET billing/invoices/': never,
      'GET billing/payments/': never,
    });
    expect(await screen.findByText('Loading your balance…')).toBeInTheDocument();
    expect(screen.getByText('Loading invoices…')).toBeInTheDocument();
    expect(screen.getByText('Loading payments…')).toBeInTheDocument();
  });

  it('shows the balance fields and empty invoice and payment lists', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    const card = within(await screen.findByRole('region', { name: 'Credit balance' }));
    expect(await card.findByText('1,500')).toBeInTheDocument();
    expect(card.getByText('Plan credits per month').nextSibling).toHaveTextContent('1,000');
    expect(card.getByText('Used this month').nextSibling).toHaveTextContent('250');
    expect(card.getByText('Remaining').nextSibling).toHaveTextContent('750');
    expect(await screen.findByText(/No invoices yet/)).toBeInTheDocument();
    expect(screen.getByText('No payments yet.')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Credit transactions' })).toHaveAttribute('href', '/account/transactions');
    expect(screen.getByRole('link', { name: 'Usage logs' })).toHaveAttribute('href', '/account/usage-logs');
  });

  it('shows an error with a retry when a request fails', async () => {
    let calls = 0;
    const { user } = renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => (++calls === 1 ? fail(500, 'Server error.') : ok(balance)),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    expect(await screen.findByText('Could not load your balance: Server error.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('1,500')).toBeInTheDocument();
  });

  it('lists invoices with status badges and payments, and pages through invoices', async () => {
    const { user, api } = renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': (request) =>
        request.url.searchParams.get('page') === '2'
          ? ok({ ...page([invoice({ id: 8, invoice_number: 'INV-2026-000008', status: 'pending' })], { previous: 'p' }), count: 11 })
          : ok({ ...page([invoice()], { next: 'n' }), count: 11 }),
      'GET billing/payments/': () => ok(page([payment({ status: 'pending_approval', payment_method: 'bank_transfer' })])),
    });

    const invoices = within(await screen.findByRole('region', { name: 'Invoices' }));
    expect(await invoices.findByText('INV-2026-000007')).toBeInTheDocument();
    expect(invoices.getByText('$9.00')).toBeInTheDocument();
    expect(invoices.getByText('Paid')).toHaveClass('badge-good');
    expect(invoices.getByText('Page 1 of 2')).toBeInTheDocument();

    await user.click(invoices.getByRole('button', { name: 'Next' }));
    expect(await invoices.findByText('INV-2026-000008')).toBeInTheDocument();
    expect(invoices.getByText('Pending')).toBeInTheDocument();
    expect(api.calls('GET billing/invoices/').at(-1)?.url.searchParams.get('page')).toBe('2');

    const payments = within(screen.getByRole('region', { name: 'Payments' }));
    expect(payments.getByText('Bank transfer')).toBeInTheDocument();
    expect(payments.getByText('Pending approval')).toBeInTheDocument();
  });

  it('downloads an invoice PDF with the bearer header through an object URL', async () => {
    const createObjectURL = vi.fn(() => 'blob:invoice');
    vi.stubGlobal('URL', class extends URL {
      static createObjectURL = createObjectURL;
      static revokeObjectURL = vi.fn();
    });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    const { user, api } = renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([invoice()])),
      'GET billing/payments/': () => ok(page([])),
      'GET billing/invoices/7/pdf/': () => new Response('%PDF-1.4', { headers: { 'Content-Type': 'application/pdf' } }),
    });

    await user.click(await screen.findByRole('button', { name: 'Download PDF of invoice INV-2026-000007' }));

    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(api.calls('GET billing/invoices/7/pdf/')[0].headers.get('Authorization')).toBe('Bearer access-1');
    expect(createObjectURL).toHaveBeenCalledTimes(1);
  });
});
