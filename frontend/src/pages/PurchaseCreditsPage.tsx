import { useState } from 'react';
import { Link } from 'react-router-dom';
import { BankTransferInstructions } from '../components/BankTransferInstructions';
import { CheckoutReturn } from '../components/CheckoutReturn';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FormError } from '../components/FormError';
import { PackageCard } from '../components/PackageCard';
import { PriceList } from '../components/PriceList';
import { QueryState } from '../components/QueryState';
import { formatCredits, formatMoney } from '../lib/format';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import { useCreditPackages, usePaymentMethods, usePurchaseCreditPackage } from '../services/billing.api';
import type { CreditPackage, PaymentMethod, PaymentMethodCode, PurchaseResult } from '../services/types';

const bySortOrder = (a: { sort_order: number }, b: { sort_order: number }) => a.sort_order - b.sort_order;

function PaymentMethodPicker({ methods, value, onChange }: {
  methods: PaymentMethod[];
  value: PaymentMethodCode | undefined;
  onChange: (method: PaymentMethodCode) => void;
}) {
  return (
    <fieldset className="methods">
      <legend>Payment method</legend>
      {methods.map((method) => (
        <label key={method.payment_method} className="method">
          <input type="radio" name="payment_method" value={method.payment_method}
            checked={value === method.payment_method} onChange={() => onChange(method.payment_method)} />
          <span>
            <span className="strong">{method.display_name}</span>
            {method.instructions && <span className="muted block">{method.instructions}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}

function PurchaseOutcome({ result, credits }: { result: PurchaseResult; credits: number | undefined }) {
  const action = result.next_action;
  if (action.type === 'bank_transfer') return <BankTransferInstructions paymentId={result.payment.id} action={action} />;
  if (action.type !== 'completed') return null;
  return (
    <div className="alert alert-success" role="status">
      <p>
        Payment complete: {credits === undefined ? 'the credits were' : `${formatCredits(credits)} credits were`} added
        to your balance. Invoice {result.invoice.invoice_number} is paid.
      </p>
      <Link to="/account/billing">See your balance and invoices</Link>
    </div>
  );
}

export default function PurchaseCreditsPage() {
  const packages = useCreditPackages();
  const methods = usePaymentMethods();
  const purchase = usePurchaseCreditPackage();
  const mayBuy = canManage(useRole());
  const [chosen, setChosen] = useState<PaymentMethodCode>();
  const [confirming, setConfirming] = useState<CreditPackage | null>(null);

  const enabled = (methods.data?.results ?? []).filter((m) => m.is_enabled).sort(bySortOrder);
  const method = chosen ?? enabled[0]?.payment_method;
  const methodName = enabled.find((m) => m.payment_method === method)?.display_name ?? '';

  const buy = (packageId: number) => {
    if (!method) return;
    setConfirming(null);
    purchase.mutate(
      { packageId, paymentMethod: method },
      {
        onSuccess: (result) => {
          // Stripe Checkout lives on Stripe's site; the webhook grants the credits after.
          if (result.next_action.type === 'redirect') window.location.assign(result.next_action.url);
        },
      },
    );
  };

  return (
    <>
      <h1>Purchase credits</h1>
      <CheckoutReturn />
      {!mayBuy && (
        <p className="notice">Only owners and admins can buy credits for this account. Here is what things cost.</p>
      )}
      <FormError error={purchase.error} />
      {purchase.data && (
        <PurchaseOutcome result={purchase.data}
          credits={packages.data?.results.find((p) => p.id === purchase.variables?.packageId)?.credits} />
      )}

      {mayBuy && (
        <section className="card">
          <QueryState query={methods} what="payment methods" isEmpty={() => enabled.length === 0}
            empty={<p>No payment method is available right now. Please contact support.</p>}>
            {() => <PaymentMethodPicker methods={enabled} value={method} onChange={setChosen} />}
          </QueryState>
        </section>
      )}

      <section aria-labelledby="packages-heading">
        <h2 id="packages-heading">Credit packages</h2>
        <QueryState query={packages} what="credit packages"
          isEmpty={(d) => !d.results.some((p) => p.is_active)} empty={<p>No credit packages are on sale right now.</p>}>
          {(data) => (
            <div className="packages">
              {data.results.filter((p) => p.is_active).sort(bySortOrder).map((pkg) => (
                <PackageCard key={pkg.id} pkg={pkg} mayBuy={mayBuy} disabled={!method || purchase.isPending}
                  buying={purchase.isPending && purchase.variables?.packageId === pkg.id} onBuy={() => setConfirming(pkg)} />
              ))}
            </div>
          )}
        </QueryState>
      </section>

      <PriceList />

      {confirming && (
        <ConfirmDialog title={`Buy ${confirming.name}?`} confirmLabel={method === 'bank_transfer' ? 'Create invoice' : 'Buy now'}
          tone="primary" busy={purchase.isPending} onCancel={() => setConfirming(null)} onConfirm={() => buy(confirming.id)}>
          <p>
            {formatCredits(confirming.credits)} credits for <strong>{formatMoney(confirming.price, confirming.currency)}</strong>
            {methodName && <> by {methodName}</>}.
          </p>
          {method === 'bank_transfer' && (
            <p>
              We create an invoice and show the bank details and a payment reference. The credits arrive once your
              transfer does; you can cancel the invoice from Billing until then.
            </p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
