import { useState, type FormEvent } from 'react';
import { formatDate, formatMoney } from '../lib/format';
import { maxLengthOf } from '../lib/limits';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import { useCancelBankTransfer, useConfirmBankTransfer, usePayments } from '../services/billing.api';
import type { Payment } from '../services/types';
import { ConfirmDialog } from './ConfirmDialog';
import { CopyButton } from './CopyButton';
import { TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';

const isPendingTransfer = (payment: Payment) =>
  payment.payment_method === 'bank_transfer' && payment.status === 'pending_approval';

function SentForm({ payment }: { payment: Payment }) {
  const [reference, setReference] = useState('');
  const confirm = useConfirmBankTransfer();
  const errors = fieldErrorsOf(confirm.error);

  if (payment.transfer_reference && !confirm.isPending) {
    return (
      <p className="alert alert-success" role="status">
        You told us you sent it (your bank's reference: <code>{payment.transfer_reference}</code>). The credits are
        added as soon as we see the money arrive.
      </p>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate({ paymentId: payment.id, transferReference: reference.trim() });
  };
  return (
    <form onSubmit={submit} noValidate className="sent-form">
      <FormError error={confirm.error} fields={['transfer_reference']} />
      <div className="inline-fields">
        <TextField label="Your bank's reference for the transfer" required value={reference}
          maxLength={maxLengthOf('transfer_reference')} errors={errors.transfer_reference}
          hint="Helps us match your money to this invoice." onChange={(e) => setReference(e.target.value)} />
        <button type="submit" className="button primary" disabled={confirm.isPending || !reference.trim()}>
          {confirm.isPending ? 'Sending…' : "I've sent it"}
        </button>
      </div>
    </form>
  );
}

function PendingTransfer({ payment, mayAct }: { payment: Payment; mayAct: boolean }) {
  const [cancelling, setCancelling] = useState(false);
  const cancel = useCancelBankTransfer();
  const amount = formatMoney(payment.amount, payment.currency);
  return (
    <article className="pending-transfer" aria-label={`Bank transfer for invoice ${payment.invoice_number}`}>
      <h3>
        Invoice {payment.invoice_number}: {amount} by bank transfer
      </h3>
      <dl className="transfer-details">
        <div>
          <dt>Amount</dt>
          <dd>
            <span className="strong">{amount}</span> <CopyButton text={payment.amount} label="amount" />
          </dd>
        </div>
        {payment.reference_code && (
          <div>
            <dt>Payment reference</dt>
            <dd>
              <code className="reference">{payment.reference_code}</code>{' '}
              <CopyButton text={payment.reference_code} label="payment reference" />
            </dd>
          </div>
        )}
        {payment.expires_at && (
          <div>
            <dt>Pay by</dt>
            <dd>{formatDate(payment.expires_at)}</dd>
          </div>
        )}
      </dl>
      {payment.instructions && (
        <div className="instructions">
          <p className="pre-line">{payment.instructions}</p>
          <CopyButton text={payment.instructions} label="bank details" />
        </div>
      )}
      <p className="muted">Quote the payment reference in the transfer so we can match it to this invoice.</p>
      {mayAct && <SentForm payment={payment} />}
      {mayAct && (
        <p>
          <button type="button" className="button secondary small" onClick={() => setCancelling(true)}>
            Cancel this transfer
          </button>
        </p>
      )}
      <FormError error={cancel.error} />
      {cancelling && (
        <ConfirmDialog title="Cancel this bank transfer?" confirmLabel="Cancel transfer" busy={cancel.isPending}
          onCancel={() => setCancelling(false)}
          onConfirm={() => cancel.mutate(payment.id, { onSettled: () => setCancelling(false) })}>
          <p>
            Invoice {payment.invoice_number} ({amount}) will be void. Do not send the money afterwards; buy again
            if you change your mind.
          </p>
        </ConfirmDialog>
      )}
    </article>
  );
}

/** Bank transfers still waiting for the customer's money, with everything needed to pay them. */
export function PendingTransfers() {
  const payments = usePayments({ page: 1, page_size: 50 });
  const mayAct = canManage(useRole());
  const pending = (payments.data?.results ?? []).filter(isPendingTransfer);
  if (pending.length === 0) return null;
  return (
    <section className="card attention" aria-labelledby="pending-heading">
      <h2 id="pending-heading">Waiting for your bank transfer</h2>
      {pending.map((payment) => (
        <PendingTransfer key={payment.id} payment={payment} mayAct={mayAct} />
      ))}
    </section>
  );
}
