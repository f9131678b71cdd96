import { useState, type FormEvent } from 'react';
import { formatCredits, formatDateTime, humanize } from '../lib/format';
import {
  useNotificationSettings,
  useRecentEvents,
  useUpdateNotificationSettings,
  type AccountEvent,
  type NotificationSettings,
} from '../services/events.api';
import { TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { QueryState } from './QueryState';

const SWITCHES: { name: 'email_low_balance' | 'email_depleted' | 'email_expiring'; label: string }[] = [
  { name: 'email_low_balance', label: 'Email when the balance falls below the threshold' },
  { name: 'email_depleted', label: 'Email when the balance reaches zero' },
  { name: 'email_expiring', label: 'Email before granted credits expire' },
];

const ALERT_TYPES = new Set(['balance.low', 'balance.depleted', 'credits.expiring']);

function describe(event: AccountEvent): string {
  const data = event.data as Record<string, number | string>;
  if (event.type === 'balance.low') return `Balance fell to ${formatCredits(Number(data.balance))} credits (threshold ${formatCredits(Number(data.threshold))})`;
  if (event.type === 'balance.depleted') return 'Balance reached zero';
  if (event.type === 'credits.expiring') return `${formatCredits(Number(data.amount))} credits expire ${formatDateTime(String(data.expires_at))}`;
  return humanize(event.type);
}

function RecentAlerts() {
  const events = useRecentEvents(true);
  return (
    <QueryState query={events} what="recent alerts">
      {(page) => {
        const alerts = page.results.filter((event) => ALERT_TYPES.has(event.type));
        return alerts.length ? (
          <ul className="alert-list" aria-label="Recent alerts">
            {alerts.map((event) => (
              <li key={event.id}>
                <strong>{event.type}</strong> · {describe(event)} · <time dateTime={event.created_at}>{formatDateTime(event.created_at)}</time>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No alerts yet.</p>
        );
      }}
    </QueryState>
  );
}

function NotificationsForm({ settings, editable }: { settings: NotificationSettings; editable: boolean }) {
  const [values, setValues] = useState(settings);
  const update = useUpdateNotificationSettings();
  const errors = fieldErrorsOf(update.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const changed = (Object.keys(values) as (keyof NotificationSettings)[]).filter((key) => values[key] !== settings[key]);
    update.mutate(Object.fromEntries(changed.map((key) => [key, values[key]])));
  };
  const change = (patch: Partial<NotificationSettings>) => {
    setValues({ ...values, ...patch });
    if (update.isSuccess) update.reset();
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form">
      <FormError error={update.error} fields={['low_balance_threshold', 'expiring_notice_days', ...SWITCHES.map((s) => s.name)]} />
      {update.isSuccess && !update.isPending && (
        <p className="alert alert-success" role="status">
          Notification settings saved.
        </p>
      )}
      <fieldset disabled={!editable || update.isPending}>
        <legend className="visually-hidden">Balance alerts</legend>
        <div className="form-grid">
          <TextField label="Low-balance threshold (credits)" type="number" min={0} inputMode="numeric"
            hint="Alert once when the balance falls to or below this; 0 turns it off."
            value={String(values.low_balance_threshold)} errors={errors.low_balance_threshold}
            onChange={(e) => change({ low_balance_threshold: Number(e.target.value) })} />
          <TextField label="Expiry notice (days)" type="number" min={1} max={90} inputMode="numeric"
            value={String(values.expiring_notice_days)} errors={errors.expiring_notice_days}
            onChange={(e) => change({ expiring_notice_days: Number(e.target.value) })} />
        </div>
        {SWITCHES.map(({ name, label }) => (
          <label key={name} className="checkbox">
            <input type="checkbox" checked={values[name]} onChange={(e) => change({ [name]: e.target.checked })} /> {label}
          </label>
        ))}
      </fieldset>
      {editable && (
        <button type="submit" className="button primary" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save notifications'}
        </button>
      )}
    </form>
  );
}

/** Settings → Notifications: the low-balance threshold, the alert emails, and the latest alerts. */
export function NotificationsSection({ editable }: { editable: boolean }) {
  const settings = useNotificationSettings();
  return (
    <section className="card" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Notifications</h2>
      <p className="muted">Alerts go to the owners and the billing email, and to webhook endpoints that subscribe to them.</p>
      <QueryState query={settings} what="notification settings">
        {(data) => <NotificationsForm settings={data} editable={editable} />}
      </QueryState>
      {editable && (
        <>
          <h3>Recent alerts</h3>
          <RecentAlerts />
        </>
      )}
    </section>
  );
}
