import { useState, type FormEvent } from 'react';
import { ApiKeysSection } from '../components/ApiKeysSection';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { QueryState } from '../components/QueryState';
import { NotificationsSection } from '../components/NotificationsSection';
import { WebhooksSection } from '../components/WebhooksSection';
import { formatCredits, formatMoney } from '../lib/format';
import { useAccountSettings, useUpdateAccountSettings } from '../services/account.api';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import type { Account, AccountSettingsUpdate } from '../services/types';

type EditableField = keyof Required<AccountSettingsUpdate>;

const FIELDS: { name: EditableField; label: string; type?: string; autoComplete?: string; hint?: string }[] = [
  { name: 'name', label: 'Account name', autoComplete: 'organization' },
  { name: 'billing_email', label: 'Billing email', type: 'email', autoComplete: 'email' },
  { name: 'billing_address_line1', label: 'Address line 1', autoComplete: 'address-line1' },
  { name: 'billing_address_line2', label: 'Address line 2', autoComplete: 'address-line2' },
  { name: 'billing_city', label: 'City', autoComplete: 'address-level2' },
  { name: 'billing_state', label: 'State or region', autoComplete: 'address-level1' },
  { name: 'billing_postal_code', label: 'Postal code', autoComplete: 'postal-code' },
  { name: 'billing_country', label: 'Country', autoComplete: 'country', hint: 'Two-letter ISO code, e.g. US or DE' },
  { name: 'tax_id', label: 'Tax ID' },
];

const valuesOf = (account: Account) =>
  Object.fromEntries(FIELDS.map(({ name }) => [name, account[name] ?? ''])) as Record<EditableField, string>;

function SettingsForm({ account, editable }: { account: Account; editable: boolean }) {
  const initial = valuesOf(account);
  const [values, setValues] = useState(initial);
  const update = useUpdateAccountSettings();
  const errors = fieldErrorsOf(update.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const normalized = { ...values, billing_country: values.billing_country.trim().toUpperCase() };
    // Only what the user changed: an untouched blank field must not be re-validated.
    const changed = FIELDS.map((f) => f.name).filter((name) => normalized[name] !== initial[name]);
    update.mutate(Object.fromEntries(changed.map((name) => [name, normalized[name]])));
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form">
      {!editable && <p className="notice">Only owners and admins can change these settings.</p>}
      <FormError error={update.error} fields={FIELDS.map((f) => f.name)} />
      {update.isSuccess && !update.isPending && (
        <p className="alert alert-success" role="status">
          Settings saved.
        </p>
      )}
      <fieldset disabled={!editable || update.isPending}>
        <legend className="visually-hidden">Account and billing details</legend>
        <div className="form-grid">
          {FIELDS.map(({ name, label, type, autoComplete, hint }) => (
            <TextField key={name} label={label} type={type ?? 'text'} autoComplete={autoComplete} hint={hint}
              maxLength={name === 'billing_country' ? 2 : undefined} value={values[name]} errors={errors[name]}
              onChange={(e) => {
                setValues({ ...values, [name]: e.target.value });
                if (update.isSuccess) update.reset();
              }} />
          ))}
        </div>
      </fieldset>
      {editable && (
        <button type="submit" className="button primary" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save settings'}
        </button>
      )}
    </form>
  );
}

export default function AccountSettingsPage() {
  const settings = useAccountSettings();
  const role = useRole();
  return (
    <>
      <h1>Settings</h1>
      <QueryState query={settings} what="account settings">
        {(account) => (
          <>
            <section className="card" aria-labelledby="plan-heading">
              <h2 id="plan-heading">Plan</h2>
              {account.plan ? (
                <p>
                  <strong>{account.plan.name}</strong>: {formatCredits(account.plan.credits_per_month)} credits a month,
                  up to {account.plan.max_users} users, {formatMoney(account.plan.price_monthly)} a month.
                </p>
              ) : (
                <p>No plan.</p>
              )}
            </section>
            <section className="card" aria-labelledby="details-heading">
              <h2 id="details-heading">Account and billing details</h2>
              <SettingsForm account={account} editable={canManage(role)} />
            </section>
            <NotificationsSection editable={canManage(role)} />
            {canManage(role) && <WebhooksSection />}
            <ApiKeysSection />
          </>
        )}
      </QueryState>
    </>
  );
}
