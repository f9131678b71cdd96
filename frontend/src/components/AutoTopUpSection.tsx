import { useState, type FormEvent } from 'react';
import { formatCredits, formatDateTime, formatMoney } from '../lib/format';
import { useCreditPackages } from '../services/billing.api';
import {
  useAutoTopUp,
  useStartCardSetup,
  useUpdateAutoTopUp,
  type AutoTopUp,
  type AutoTopUpInput,
} from '../services/autoTopUp.api';
import { SelectField, TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { QueryState } from './QueryState';

const STATUS_TEXT: Record<AutoTopUp['status'], string> = {
  active: 'Active',
  paused: 'Paused',
  disabled: 'Off',
  no_card: 'No card saved',
};

function CardSummary({ rule, editable }: { rule: AutoTopUp; editable: boolean }) {
  const setup = useStartCardSetup();
  const card = rule.card;
  return (
    <div className="auto-top-up-card">
      <FormError error={setup.error} fields={['payment_method']} />
      <p>
        {card ? (
          <>
            Card: <strong>{card.brand || 'card'} ···· {card.last4 || '????'}</strong>
            {card.provider === 'sandbox' && ' (sandbox test card)'}
          </>
        ) : (
          'No card saved yet.'
        )}
      </p>
      {editable &&
        rule.card_methods.map((method) => (
          <button
            key={method}
            type="button"
            className="button"
            disabled={setup.isPending}
            onClick={() => setup.mutate(method)}
          >
            {method === 'sandbox'
              ? card ? 'Save a sandbox test card again' : 'Save a sandbox test card'
              : card ? 'Replace the card' : 'Save a card'}
          </button>
        ))}
    </div>
  );
}

function RuleForm({ rule, editable }: { rule: AutoTopUp; editable: boolean }) {
  const packages = useCreditPackages();
  const update = useUpdateAutoTopUp();
  const errors = fieldErrorsOf(update.error);
  const [threshold, setThreshold] = useState(String(rule.threshold || ''));
  const [packageId, setPackageId] = useState(rule.package_id ? String(rule.package_id) : '');
  const [maxCount, setMaxCount] = useState(rule.max_per_month === null ? '' : String(rule.max_per_month));
  const [maxAmount, setMaxAmount] = useState(rule.max_amount_per_month ?? '');

  const save = (isEnabled: boolean) => {
    const input: AutoTopUpInput = {
      is_enabled: isEnabled,
      max_per_month: maxCount === '' ? null : Number(maxCount),
      max_amount_per_month: maxAmount === '' ? null : maxAmount,
    };
    if (threshold !== '') input.threshold = Number(threshold);
    if (packageId !== '') input.package_id = Number(packageId);
    update.mutate(input);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save(true);
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form">
      <FormError
        error={update.error}
        fields={['threshold', 'package_id', 'max_per_month', 'max_amount_per_month']}
        labels={{ is_enabled: 'Auto top-up' }}
      />
      {update.isSuccess && !update.isPending && (
        <p className="alert alert-success" role="status">
          Auto top-up saved.
        </p>
      )}
      <fieldset disabled={!editable || update.isPending}>
        <legend className="visually-hidden">Auto top-up rule</legend>
        <div className="form-grid">
          <TextField label="Buy when the balance falls below (credits)" type="number" min={1} inputMode="numeric"
            value={threshold} errors={errors.threshold} onChange={(e) => setThreshold(e.target.value)} />
          <SelectField label="Package to buy" value={packageId} errors={errors.package_id}
            onChange={(e) => setPackageId(e.target.value)}>
            <option value="">Choose a package</option>
            {(packages.data?.results ?? []).filter((p) => p.is_active).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}: {formatCredits(p.credits)} credits for {formatMoney(p.price, p.currency)}
              </option>
            ))}
          </SelectField>
          <TextField label="At most this many top-ups a month" type="number" min={1} inputMode="numeric"
            hint="Empty: no limit." value={maxCount} errors={errors.max_per_month}
            onChange={(e) => setMaxCount(e.target.value)} />
          <TextField label="At most this much money a month" inputMode="decimal"
            hint="Empty: no limit." value={maxAmount} errors={errors.max_amount_per_month}
            onChange={(e) => setMaxAmount(e.target.value)} />
        </div>
      </fieldset>
      {editable && (
        <div className="button-row">
          <button type="submit" className="button primary" disabled={update.isPending}>
            {rule.status === 'paused' ? 'Resume auto top-up' : rule.is_enabled ? 'Save auto top-up' : 'Turn on auto top-up'}
          </button>
          {rule.is_enabled && (
            <button type="button" className="button" disabled={update.isPending} onClick={() => save(false)}>
              Turn off
            </button>
          )}
        </div>
      )}
    </form>
  );
}

function AutoTopUpBody({ rule, editable }: { rule: AutoTopUp; editable: boolean }) {
  const currency = rule.this_month.currency || rule.package?.currency || 'USD';
  return (
    <>
      <p>
        Status: <strong>{STATUS_TEXT[rule.status]}</strong> · This month: {rule.this_month.count} top-up
        {rule.this_month.count === 1 ? '' : 's'}, {formatMoney(rule.this_month.amount, currency)}
      </p>
      {rule.status === 'paused' && (
        <p className="alert alert-error" role="alert">
          Paused{rule.paused_at ? ` since ${formatDateTime(rule.paused_at)}` : ''}: {rule.paused_reason} Save a card again or
          resume to turn it back on.
        </p>
      )}
      <CardSummary rule={rule} editable={editable} />
      <RuleForm key={`${rule.status}-${rule.package_id}-${rule.threshold}`} rule={rule} editable={editable} />
    </>
  );
}

/** Settings → Auto top-up: owners save a card and set when to buy which package, within monthly limits. */
export function AutoTopUpSection({ editable }: { editable: boolean }) {
  const rule = useAutoTopUp();
  return (
    <section className="card" aria-labelledby="auto-top-up-heading">
      <h2 id="auto-top-up-heading">Auto top-up</h2>
      <p className="muted">
        When the balance falls below the threshold, the saved card buys the package once. A failed charge pauses auto top-up
        and mails the owners.{!editable && ' Only owners can change it.'}
      </p>
      <QueryState query={rule} what="auto top-up">
        {(data) => <AutoTopUpBody rule={data} editable={editable} />}
      </QueryState>
    </section>
  );
}
