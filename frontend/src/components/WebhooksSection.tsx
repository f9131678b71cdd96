import { useState, type FormEvent } from 'react';
import { errorMessage } from '../services/api';
import { formatDateTime } from '../lib/format';
import {
  useCreateEndpoint,
  useDeleteEndpoint,
  useDeliveries,
  useEndpoints,
  useEventTypes,
  useResendDelivery,
  useSendTestEvent,
  useUpdateEndpoint,
  type Delivery,
  type WebhookEndpoint,
} from '../services/events.api';
import { TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { QueryState } from './QueryState';
import { StatusBadge } from './StatusBadge';

function responseOf(delivery: Delivery): string {
  const last = delivery.attempt_log[0];
  if (!last) return 'not sent yet';
  const answer = last.status_code ? `HTTP ${last.status_code}` : last.error || 'no answer';
  return `${answer} in ${last.duration_ms} ms`;
}

function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const deliveries = useDeliveries(endpoint.id);
  const resend = useResendDelivery();
  return (
    <QueryState query={deliveries} what="deliveries" isEmpty={(page) => page.results.length === 0}
      empty={<p>No deliveries yet. Send a test event to see one.</p>}>
      {(page) => (
        <table>
          <caption className="visually-hidden">Delivery log of {endpoint.url}</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Last response</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {page.results.map((delivery) => (
              <tr key={delivery.id}>
                <td>{delivery.event_type}</td>
                <td><StatusBadge status={delivery.status} /></td>
                <td>{responseOf(delivery)}</td>
                <td>{delivery.attempts}</td>
                <td>{formatDateTime(delivery.created_at)}</td>
                <td>
                  <button type="button" className="button secondary" disabled={resend.isPending}
                    onClick={() => resend.mutate(delivery.id)}>
                    Resend
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}

function EndpointRow({ endpoint }: { endpoint: WebhookEndpoint }) {
  const [showLog, setShowLog] = useState(false);
  const update = useUpdateEndpoint();
  const remove = useDeleteEndpoint();
  const test = useSendTestEvent();
  const failure = update.error ?? remove.error ?? test.error;
  return (
    <li className="card endpoint">
      <p>
        <strong>{endpoint.url}</strong> <StatusBadge status={endpoint.is_enabled ? 'active' : 'failed'} />
        {endpoint.description && <span className="muted"> · {endpoint.description}</span>}
      </p>
      <p className="muted">Events: {endpoint.event_types.length ? endpoint.event_types.join(', ') : 'all'}</p>
      {!endpoint.is_enabled && endpoint.disabled_reason && <p className="notice">{endpoint.disabled_reason}</p>}
      {failure && <p className="alert alert-error" role="alert">{errorMessage(failure)}</p>}
      {test.isSuccess && <p role="status">Test event queued.</p>}
      <div className="actions">
        <button type="button" className="button secondary" disabled={test.isPending} onClick={() => test.mutate(endpoint.id)}>
          Send test event
        </button>
        <button type="button" className="button secondary" disabled={update.isPending}
          onClick={() => update.mutate({ id: endpoint.id, is_enabled: !endpoint.is_enabled })}>
          {endpoint.is_enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="button secondary" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
          {showLog ? 'Hide delivery log' : 'Delivery log'}
        </button>
        <button type="button" className="button danger" disabled={remove.isPending} onClick={() => remove.mutate(endpoint.id)}>
          Delete
        </button>
      </div>
      {showLog && <DeliveryLog endpoint={endpoint} />}
    </li>
  );
}

function AddEndpointForm({ onCreated }: { onCreated: (endpoint: WebhookEndpoint) => void }) {
  const types = useEventTypes();
  const create = useCreateEndpoint();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const errors = fieldErrorsOf(create.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { url: url.trim(), description, event_types: chosen },
      {
        onSuccess: (endpoint) => {
          setUrl('');
          setDescription('');
          setChosen([]);
          onCreated(endpoint);
        },
      },
    );
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form" aria-label="Add a webhook endpoint">
      <FormError error={create.error} fields={['url', 'description', 'event_types']} />
      <div className="form-grid">
        <TextField label="Endpoint URL" type="url" value={url} errors={errors.url} placeholder="https://example.com/webhooks"
          onChange={(e) => setUrl(e.target.value)} />
        <TextField label="Description" value={description} errors={errors.description}
          onChange={(e) => setDescription(e.target.value)} />
      </div>
      <fieldset>
        <legend>Events (none chosen: all)</legend>
        {(types.data ?? []).filter((t) => t.type !== 'webhook.test').map((t) => (
          <label key={t.type} className="checkbox" title={t.description}>
            <input type="checkbox" checked={chosen.includes(t.type)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, t.type] : chosen.filter((c) => c !== t.type))} /> {t.type}
          </label>
        ))}
        {errors.event_types && <p className="field-errors">{errors.event_types.join(' ')}</p>}
      </fieldset>
      <button type="submit" className="button primary" disabled={create.isPending}>
        {create.isPending ? 'Adding…' : 'Add endpoint'}
      </button>
    </form>
  );
}

/** Settings → Webhooks: endpoints, their signing secret (shown once) and their delivery logs. */
export function WebhooksSection() {
  const endpoints = useEndpoints();
  const [created, setCreated] = useState<WebhookEndpoint | null>(null);
  return (
    <section className="card" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p className="muted">
        Events are POSTed as JSON and signed with the Standard Webhooks scheme (<code>webhook-id</code>,{' '}
        <code>webhook-timestamp</code>, <code>webhook-signature</code>); failed deliveries are retried for about three days.
      </p>
      {created?.secret && (
        <div className="notice" role="status">
          <p>
            Signing secret for {created.url}: <code data-testid="webhook-secret">{created.secret}</code>
          </p>
          <p>Copy it now: it will not be shown again.</p>
          <button type="button" className="button secondary" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
      <QueryState query={endpoints} what="webhook endpoints" isEmpty={(page) => page.results.length === 0}
        empty={<p>No endpoints yet.</p>}>
        {(page) => (
          <ul className="endpoint-list">
            {page.results.map((endpoint) => (
              <EndpointRow key={endpoint.id} endpoint={endpoint} />
            ))}
          </ul>
        )}
      </QueryState>
      <h3>Add an endpoint</h3>
      <AddEndpointForm onCreated={setCreated} />
    </section>
  );
}
