import { useEffect } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useInvalidateBilling, useInvoiceUntilSettled } from '../services/billing.api';

/** What Stripe Checkout sends the customer back with: ?status=success|cancelled&invoice=<id>. */
export function CheckoutReturn() {
  const [params] = useSearchParams();
  const status = params.get('status');
  const invoiceId = Number(params.get('invoice')) || undefined;
  const invoice = useInvoiceUntilSettled(status === 'success' ? invoiceId : undefined);
  const paid = invoice.data?.status === 'paid';
  const invalidateBilling = useInvalidateBilling();

  useEffect(() => {
    // The webhook granted the credits: every balance and ledger view is now stale.
    if (paid) void invalidateBilling();
  }, [paid, invalidateBilling]);

  if (status === 'cancelled') {
    return (
      <div className="alert notice" role="status">
        <p>Checkout was cancelled and nothing was charged. You can choose a package again below.</p>
      </div>
    );
  }
  if (status !== 'success') return null;
  return (
    <div className={`alert ${paid ? 'alert-success' : 'notice'}`} role="status">
      <p>
        {paid
          ? `Payment received: invoice ${invoice.data?.invoice_number} is paid and the credits are in your balance.`
          : 'Thank you! Stripe is confirming your payment; the credits are added as soon as it does (usually within seconds).'}
      </p>
      <Link to="/account/billing">See your balance and invoices</Link>
    </div>
  );
}
