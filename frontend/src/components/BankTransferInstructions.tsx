import { useState, type FormEvent } from 'react';
import { formatMoney } from '../lib/format';
import { maxLengthOf } from '../lib/limits';
import { useConfirmBankTransfer } from '../services/billing.api';
import type { NextAction } from '../services/types';
import { CopyButton } from './CopyButton';
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
            <code className="reference">{action.reference}</code> <CopyButton text={action.reference} label="payment reference" />
          </dd>
        </div>
      </dl>
      <div className="instructions">
        <p className="pre-line">{action.instructions}</p>
        <CopyButton text={action.instructions} label="bank details" />
      </div>
      <p className="muted">You can come back to these details any time on the Billing page.</p>
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
              maxLength={maxLengthOf('transfer_reference')}
              hint="The reference or transaction ID your bank gave the transfer."
              onChange={(e) => setTransferReference(e.target.value)} />
            <button type="submit" className="button primary" disabled={confirm.isPending || !transferReference.trim()}>
              {confirm.isPending ? 'Sending…' : "I've sent it"}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
