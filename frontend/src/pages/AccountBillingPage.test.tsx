import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { balance, creditCosts, fullBalance, hold, invoice, payment, pendingTransfer } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

describe('AccountBillingPage', () => {
  it('gives the invoice table a sideways-scroll cue for phones', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([invoice()])),
      'GET billing/payments/': () => ok(page([])),
    });
    const invoices = within(await screen.findByRole('region', { name: 'Invoices' }));
    expect(invoices.getByText(/Swipe the table sideways for status and PDF/)).toHaveClass('scroll-hint');
  });

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

  it('shows the balance an older backend sends, without inventing the fields it lacks', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    const card = within(await screen.findByRole('region', { name: 'Credit balance' }));
    expect(await card.findByText('1,500')).toBeInTheDocument();
    expect(card.getByText('Available now').nextSibling).toHaveTextContent('1,500');
    expect(card.getByText('Plan credits per month').nextSibling).toHaveTextContent('1,000');
    expect(card.getByText('Used this month').nextSibling).toHaveTextContent('250');
    expect(card.getByText('Next monthly grant').nextSibling).toHaveTextContent('—');
    expect(card.queryByText(/in flight/)).not.toBeInTheDocument();
    expect(card.queryByText(/expire/)).not.toBeInTheDocument();
    expect(screen.queryByRole('alert', { name: 'Low balance' })).not.toBeInTheDocument();
    expect(await screen.findByText(/No invoices yet/)).toBeInTheDocument();
    expect(screen.getByText('No payments yet.')).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Waiting for your bank transfer' })).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Credit transactions' })).toHaveAttribute('href', '/account/transactions');
    expect(screen.getByRole('link', { name: 'Usage logs' })).toHaveAttribute('href', '/account/usage-logs');
  });

  it('shows the plan, the next grant, held credits in flight, what expires soon and the breakdown', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(fullBalance()),
      'GET billing/credits/holds/': () => ok(page([hold()])),
      'GET billing/credit-costs/': () => ok(page(creditCosts())),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    const card = within(await screen.findByRole('region', { name: /Credit balance/ }));
    expect(await card.findByText('· Growth plan')).toBeInTheDocument();
    expect(card.getByText('Available now').nextSibling).toHaveTextContent('1,380');
    expect(card.getByText('1,500 in the balance, 120 held by running jobs')).toBeInTheDocument();
    expect(card.getByText('Next monthly grant').nextSibling).toHaveTextContent('Jan 1, 2027');
    expect(card.getByRole('note')).toHaveTextContent('300 credits expire on Dec 31, 2026');
    expect(card.getByText(/Made of/)).toHaveTextContent('Made of 1,000 plan and 500 purchase credits.');
    expect(await card.findByText('120 credits in flight for 1 running job')).toBeInTheDocument();
    expect(await card.findByText(/Content writing/)).toBeInTheDocument();
    expect(card.getByText('job-77')).toBeInTheDocument();
  });

  it('warns with a Buy button when the balance is below a tenth of the plan', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(fullBalance({ credits: 90, held: 0, credits_remaining: 90 })),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    const banner = await screen.findByRole('alert', { name: 'Low balance' });
    expect(banner).toHaveTextContent('Your balance is low: 90 credits left.');
    expect(banner).toHaveTextContent('Your plan adds credits on Jan 1, 2027.');
    expect(within(banner).getByRole('link', { name: 'Buy credits' })).toHaveAttribute('href', '/account/purchase-credits');
  });

  it('says the account is out of credits at zero, counting held credits as spent', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(fullBalance({ credits: 120, held: 120, credits_remaining: 0 })),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    expect(await screen.findByRole('alert', { name: 'Low balance' })).toHaveTextContent('You are out of credits.');
  });

  it("follows the account's own low-balance threshold when the balance carries one", async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(fullBalance({ credits_remaining: 400, held: 0, low_balance_threshold: 500 })),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    });
    expect(await screen.findByRole('alert', { name: 'Low balance' })).toHaveTextContent('400 credits left');
  });

  it('shows viewers the low balance but no Buy button anywhere', async () => {
    renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(fullBalance({ credits_remaining: 0, held: 0, credits: 0 })),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([pendingTransfer()])),
    }, { role: 'viewer' });
    const banner = await screen.findByRole('alert', { name: 'Low balance' });
    expect(banner).toHaveTextContent('Ask an owner or admin of this account to buy credits.');
    expect(await screen.findByText('Available now')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /Buy/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Buy/ })).not.toBeInTheDocument();
    expect(screen.getAllByRole('link', { name: 'Prices' })).toHaveLength(2); // the nav and the billing links
    // The pending transfer is shown for information, without the owner's actions.
    const pending = within(await screen.findByRole('region', { name: 'Waiting for your bank transfer' }));
    expect(pending.getByText('CD-ABCD2345')).toBeInTheDocument();
    expect(pending.queryByRole('button', { name: "I've sent it" })).not.toBeInTheDocument();
    expect(pending.queryByRole('button', { name: 'Cancel this transfer' })).not.toBeInTheDocument();
  });

  it('brings a pending bank transfer back with its details, copy buttons and "I\'ve sent it"', async () => {
    let current = pendingTransfer();
    const { user, api } = renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([invoice({ id: 12, invoice_number: 'INV-2026-000012', status: 'pending' })])),
      'GET billing/payments/': () => ok(page([current])),
      'POST billing/payments/9/confirm/': (request) => {
        current = { ...current, transfer_reference: (request.body as { transfer_reference: string }).transfer_reference };
        return ok(current);
      },
    });

    // After user-event's setup, which installs its own clipboard.
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const pending = within(await screen.findByRole('region', { name: 'Waiting for your bank transfer' }));
    expect(pending.getByText('Invoice INV-2026-000012: $29.00 by bank transfer')).toBeInTheDocument();
    expect(pending.getByText('CD-ABCD2345')).toBeInTheDocument();
    expect(pending.getByText(/IBAN DE00 1234 5678/)).toBeInTheDocument();
    expect(pending.getByText('Pay by').nextSibling).toHaveTextContent('Dec 16, 2026');

    await user.click(pending.getByRole('button', { name: 'Copy payment reference' }));
    expect(writeText).toHaveBeenCalledWith('CD-ABCD2345');
    expect(await pending.findByText('Copied')).toBeInTheDocument();
    await user.click(pending.getByRole('button', { name: 'Copy amount' }));
    expect(writeText).toHaveBeenLastCalledWith('29.00');

    expect(pending.getByRole('button', { name: "I've sent it" })).toBeDisabled();
    await user.type(pending.getByLabelText("Your bank's reference for the transfer"), 'SEPA-1');
    await user.click(pending.getByRole('button', { name: "I've sent it" }));
    expect(await pending.findByText(/You told us you sent it/)).toHaveTextContent('SEPA-1');
    expect(api.calls('POST billing/payments/9/confirm/')[0].body).toEqual({ transfer_reference: 'SEPA-1' });
  });

  it('cancels a pending bank transfer only after confirmation', async () => {
    let payments = [pendingTransfer()];
    const { user, api } = renderApp('/account/billing', {
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page(payments)),
      'POST billing/payments/9/cancel/': () => {
        payments = [pendingTransfer({ status: 'failed', failure_reason: 'Cancelled by the customer.' })];
        return ok(payments[0]);
      },
    });

    const pending = within(await screen.findByRole('region', { name: 'Waiting for your bank transfer' }));
    await user.click(pending.getByRole('button', { name: 'Cancel this transfer' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Cancel this bank transfer?' }));
    expect(dialog.getByText(/INV-2026-000012 \(\$29.00\) will be void/)).toBeInTheDocument();
    await user.click(dialog.getByRole('button', { name: 'Cancel' }));
    expect(api.calls('POST billing/payments/9/cancel/')).toHaveLength(0);

    await user.click(pending.getByRole('button', { name: 'Cancel this transfer' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel transfer' }));
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Waiting for your bank transfer' })).not.toBeInTheDocument());
    expect(api.calls('POST billing/payments/9/cancel/')).toHaveLength(1);
    expect(await screen.findByText('Cancelled by the customer.')).toBeInTheDocument();
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
    expect(await screen.findByText('Available now')).toBeInTheDocument();
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
