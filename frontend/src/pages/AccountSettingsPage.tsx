import { useState, type FormEvent } from 'react';
import { ApiKeysSection } from '../components/ApiKeysSection';
import { AutoTopUpSection } from '../components/AutoTopUpSection';
import { SelectField, TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { QueryState } from '../components/QueryState';
import { NotificationsSection } from '../components/NotificationsSection';
import { WebhooksSection } from '../components/WebhooksSection';
import { countryOptions } from '../lib/countries';
import { formatCredits, formatMoney } from '../lib/format';
import { maxLengthOf } from '../lib/limits';
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
  { name: 'billing_country', label: 'Country', autoComplete: 'country' },
  { name: 'tax_id', label: 'Tax ID' },
];

const LABELS = Object.fromEntries(FIELDS.map((f) => [f.name, f.label]));
const COUNTRIES = countryOptions();

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
    Object.keys(normalized).forEach((key) => {
      const name = key as EditableField;
      if (name !== 'billing_address_line2') normalized[name] = normalized[name].trim();
    });
    // Only what the user changed: an untouched blank field must not be re-validated.
    const changed = FIELDS.map((f) => f.name).filter((name) => normalized[name] !== initial[name]);
    update.mutate(Object.fromEntries(changed.map((name) => [name, normalized[name]])));
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form">
      {!editable && <p className="notice">Only owners and admins can change these settings.</p>}
      <FormError error={update.error} fields={FIELDS.map((f) => f.name)} labels={LABELS} />
      {update.isSuccess && !update.isPending && (
        <p className="alert alert-success" role="status">
          Settings saved.
        </p>
      )}
      <fieldset disabled={!editable || update.isPending}>
        <legend className="visually-hidden">Account and billing details</legend>
        <div className="form-grid">
          {FIELDS.map(({ name, label, type, autoComplete, hint }) => {
            const onChange = (value: string) => {
              setValues({ ...values, [name]: value });
              if (update.isSuccess || update.isError) update.reset();
            };
            return name === 'billing_country' ? (
              <SelectField key={name} label={label} autoComplete={autoComplete} value={values[name].toUpperCase()}
                errors={errors[name]} onChange={(e) => onChange(e.target.value)}>
                <option value="">Not set</option>
                {COUNTRIES.map((country) => (
                  <option key={country.code} value={country.code}>
                    {country.name}
                  </option>
                ))}
              </SelectField>
            ) : (
              <TextField key={name} label={label} type={type ?? 'text'} autoComplete={autoComplete} hint={hint}
                maxLength={maxLengthOf(name)} value={values[name]} errors={errors[name]}
                onChange={(e) => onChange(e.target.value)} />
            );
          })}
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
            {canManage(role) && <AutoTopUpSection editable={role === 'owner'} />}
            <ApiKeysSection />
          </>
        )}
      </QueryState>
    </>
  );
}
