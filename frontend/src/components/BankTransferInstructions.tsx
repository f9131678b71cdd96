import { useState, type FormEvent } from 'react';
import { formatMoney } from '../lib/format';
import { useConfirmBankTransfer } from '../services/billing.api';
import type { NextAction } from '../services/types';
import { TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';

type BankTransfer = Extract<NextAction, { type: 'bank_transfer' }>;

export function BankTransferInstructions({ paymentId, action }: { paymentId: number; action: BankTransfer }) {
  const [transferReference, setTransferReference] = useState('');
  const confirm = useConfirmBankTransfer();
  const errors = fieldErrorsOf(confirm.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate({ paymentId, transferReference: transferReference.trim() });
  };

  return (
    <section className="card outcome" aria-labelledby="transfer-heading">
      <h2 id="transfer-heading">Pay by bank transfer</h2>
      <dl className="transfer-details">
        <div>
          <dt>Amount</dt>
          <dd>{formatMoney(action.amount, action.currency)}</dd>
        </div>
        <div>
          <dt>Payment reference</dt>
          <dd>
            <code>{action.reference}</code>
          </dd>
        </div>
      </dl>
      <p className="instructions">{action.instructions}</p>
      {confirm.isSuccess ? (
        <p className="alert alert-success" role="status">
          Thank you. We recorded your transfer; the credits are added once the payment is approved.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>Once you have sent the transfer, tell us its reference so we can match it.</p>
          <FormError error={confirm.error} fields={['transfer_reference']} />
          <div className="inline-fields">
            <TextField label="Transfer reference" required value={transferReference} errors={errors.transfer_reference}
              hint="The reference or transaction ID your bank gave the transfer."
              onChange={(e) => setTransferReference(e.target.value)} />
            <button type="submit" className="button primary" disabled={confirm.isPending || !transferReference.trim()}>
              {confirm.isPending ? 'Sending…' : 'I have sent the transfer'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
