import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { balance, creditCosts, creditPackage, invoice, payment, paymentMethod } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const catalogue = {
  'GET billing/credit-packages/': () =>
    ok(page([
      creditPackage(),
      creditPackage({ id: 2, name: 'Pro Pack', credits: 2000, price: '29.00', is_featured: true, sort_order: 2 }),
      creditPackage({ id: 3, name: 'Retired Pack', is_active: false }),
    ])),
  'GET billing/payment-methods/': () =>
    ok(page([
      paymentMethod({ payment_method: 'stripe', display_name: 'Card', is_enabled: false, sort_order: 0 }),
      paymentMethod(),
      paymentMethod({ payment_method: 'bank_transfer', display_name: 'Bank transfer', sort_order: 2 }),
    ])),
};

/** Buy clicks open a confirmation; this confirms it. */
async function buyAndConfirm(user: { click: (el: Element) => Promise<void> }, name: string, confirmLabel = 'Buy now') {
  await user.click(await screen.findByRole('button', { name: `Buy ${name}` }));
  await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: confirmLabel }));
}

const purchased = (next_action: object) =>
  ok({ invoice: invoice({ status: 'pending' }), payment: payment({ id: 44, status: 'pending' }), next_action }, 201);

describe('PurchaseCreditsPage', () => {
  it('shows loading states', async () => {
    renderApp('/account/purchase-credits', { 'GET billing/credit-packages/': never, 'GET billing/payment-methods/': never });
    expect(await screen.findByText('Loading credit packages…')).toBeInTheDocument();
    expect(screen.getByText('Loading payment methods…')).toBeInTheDocument();
  });

  it('shows error and empty states', async () => {
    renderApp('/account/purchase-credits', {
      'GET billing/credit-packages/': () => ok(page([creditPackage({ is_active: false })])),
      'GET billing/payment-methods/': () => fail(500, 'Boom.'),
    });
    expect(await screen.findByText('No credit packages are on sale right now.')).toBeInTheDocument();
    expect(await screen.findByText('Could not load payment methods: Boom.')).toBeInTheDocument();
  });

  it('offers active packages and only enabled payment methods', async () => {
    renderApp('/account/purchase-credits', catalogue);

    expect(await screen.findByRole('button', { name: 'Buy Starter Pack' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Buy Pro Pack' })).toBeInTheDocument();
    expect(screen.queryByText('Retired Pack')).not.toBeInTheDocument();
    expect(await screen.findByLabelText(/Sandbox/)).toBeChecked();
    expect(screen.getByLabelText(/Bank transfer/)).not.toBeChecked();
    expect(screen.queryByLabelText(/Card/)).not.toBeInTheDocument();
  });

  it('completes a sandbox purchase with an idempotency key and refreshes the balance', async () => {
    const { user, api } = renderApp('/account/purchase-credits', {
      ...catalogue,
      'POST billing/credit-packages/2/purchase/': () => purchased({ type: 'completed' }),
      'GET billing/credits/balance/balance/': () => ok(balance),
    });
    // The low-balance banner on every page watches the balance: it must be fetched again after a purchase.
    await waitFor(() => expect(api.calls('GET billing/credits/balance/balance/')).toHaveLength(1));

    await user.click(await screen.findByRole('button', { name: 'Buy Pro Pack' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Buy Pro Pack?' }));
    expect(dialog.getByText(/2,000 credits for/)).toHaveTextContent('2,000 credits for $29.00 by Sandbox (test).');
    expect(api.calls('POST billing/credit-packages/2/purchase/')).toHaveLength(0);
    await user.click(dialog.getByRole('button', { name: 'Buy now' }));

    expect(await screen.findByText(/Payment complete: 2,000 credits were added/)).toBeInTheDocument();
    const request = api.calls('POST billing/credit-packages/2/purchase/')[0];
    expect(request.body).toEqual({ payment_method: 'sandbox' });
    expect(request.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => expect(api.calls('GET billing/credits/balance/balance/')).toHaveLength(2));
  });

  it('uses a new idempotency key for each purchase attempt', async () => {
    const { user, api } = renderApp('/account/purchase-credits', {
      ...catalogue,
      'POST billing/credit-packages/1/purchase/': () => fail(402, 'Payment declined.'),
    });
    await buyAndConfirm(user, 'Starter Pack');
    expect(await screen.findByText('Payment declined.')).toBeInTheDocument();
    await buyAndConfirm(user, 'Starter Pack');
    await waitFor(() => expect(api.calls('POST billing/credit-packages/1/purchase/')).toHaveLength(2));
    const [first, second] = api.calls('POST billing/credit-packages/1/purchase/').map((r) => r.headers.get('Idempotency-Key'));
    expect(first).not.toBe(second);
  });

  it('sends the browser to the checkout URL for a redirect', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    const { user } = renderApp('/account/purchase-credits', {
      ...catalogue,
      'POST billing/credit-packages/1/purchase/': () => purchased({ type: 'redirect', url: 'https://checkout.test/s/1' }),
    });
    await buyAndConfirm(user, 'Starter Pack');
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://checkout.test/s/1'));
  });

  it('shows bank transfer instructions and records the transfer reference', async () => {
    const { user, api } = renderApp('/account/purchase-credits', {
      ...catalogue,
      'POST billing/credit-packages/1/purchase/': () =>
        purchased({ type: 'bank_transfer', reference: 'CD-7-XYZ', instructions: 'IBAN DE00 1234', amount: '9.00', currency: 'EUR' }),
      'POST billing/payments/44/confirm/': () => ok(payment({ id: 44, status: 'pending_approval' })),
    });

    await user.click(await screen.findByLabelText(/Bank transfer/));
    await user.click(screen.getByRole('button', { name: 'Buy Starter Pack' }));
    const dialog = within(screen.getByRole('dialog', { name: 'Buy Starter Pack?' }));
    expect(dialog.getByText(/We create an invoice/)).toBeInTheDocument();
    expect(api.calls('POST billing/credit-packages/1/purchase/')).toHaveLength(0);
    await user.click(dialog.getByRole('button', { name: 'Create invoice' }));

    const transfer = within(await screen.findByRole('region', { name: 'Pay by bank transfer' }));
    expect(transfer.getByText('CD-7-XYZ')).toBeInTheDocument();
    expect(transfer.getByText('€9.00')).toBeInTheDocument();
    expect(transfer.getByText('IBAN DE00 1234')).toBeInTheDocument();
    expect(api.calls('POST billing/credit-packages/1/purchase/')[0].body).toEqual({ payment_method: 'bank_transfer' });

    await user.type(transfer.getByLabelText('Transfer reference'), 'BANK-REF-99');
    await user.click(transfer.getByRole('button', { name: "I've sent it" }));

    expect(await transfer.findByText(/We recorded your transfer/)).toBeInTheDocument();
    expect(api.calls('POST billing/payments/44/confirm/')[0].body).toEqual({ transfer_reference: 'BANK-REF-99' });
  });

  it.each(['member', 'viewer'] as const)('shows a %s the prices without any Buy button', async (role) => {
    renderApp('/account/purchase-credits', { ...catalogue, 'GET billing/credit-costs/': () => ok(page(creditCosts())) }, { role });
    expect(await screen.findByText(/Only owners and admins can buy credits for this account/)).toBeInTheDocument();
    expect(await screen.findByText('2,000 credits')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Buy/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('group', { name: 'Payment method' })).not.toBeInTheDocument();
    expect(await screen.findByText('Content writing')).toBeInTheDocument();
  });

  it('shows the price per credit, the price list and a badge that does not shift the cards', async () => {
    renderApp('/account/purchase-credits', { ...catalogue, 'GET billing/credit-costs/': () => ok(page(creditCosts())) });
    const starter = within((await screen.findByRole('heading', { name: 'Starter Pack' })).closest('article')!);
    expect(starter.getByText('$0.018 per credit')).toBeInTheDocument();
    const pro = within(screen.getByRole('heading', { name: 'Pro Pack' }).closest('article')!);
    expect(pro.getByText('$0.0145 per credit')).toBeInTheDocument();
    expect(pro.getByText('Popular')).toHaveClass('package-badge');

    const prices = within(screen.getByRole('region', { name: 'Price list' }));
    const rows = await prices.findAllByRole('row');
    expect(rows.map((row) => row.textContent)).toEqual([
      'OperationCreditsPer',
      'Content writing25article',
      'Keyword clustering10request',
      'Internal linking3page',
    ]);
  });

  it('waits on Stripe\'s return until the webhook has paid the invoice', async () => {
    let polls = 0;
    const { api } = renderApp('/account/purchase-credits?status=success&invoice=7', {
      ...catalogue,
      'GET billing/invoices/7/': () => ok(invoice({ id: 7, status: ++polls < 2 ? 'pending' : 'paid' })),
    });
    expect(await screen.findByText(/Stripe is confirming your payment/)).toBeInTheDocument();
    expect(await screen.findByText(/is paid and the credits are in your balance/, {}, { timeout: 4000 })).toBeInTheDocument();
    expect(api.calls('GET billing/invoices/7/').length).toBeGreaterThanOrEqual(2);
  });

  it('says nothing was charged when checkout was cancelled', async () => {
    renderApp('/account/purchase-credits?status=cancelled&invoice=7', catalogue);
    expect(await screen.findByText(/Checkout was cancelled and nothing was charged/)).toBeInTheDocument();
  });
});
