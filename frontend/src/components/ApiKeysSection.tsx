import { useState, type FormEvent } from 'react';
import { ConfirmDialog } from './ConfirmDialog';
import { DataTable, type Column } from './DataTable';
import { TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { QueryState } from './QueryState';
import { StatusBadge } from './StatusBadge';
import { formatCredits, formatDate, formatDateTime } from '../lib/format';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import {
  API_KEY_SCOPES, capFromInput, useApiKeys, useCreateApiKey, useRevokeApiKey, useUpdateApiKey,
  type ApiKey, type ApiKeyScope, type CreatedApiKey,
} from '../services/apiKeys.api';

const capText = (cap: number | null, spent: number | null, period: string) =>
  cap === null ? null : `${formatCredits(spent ?? 0)} / ${formatCredits(cap)} ${period}`;

function CapsCell({ apiKey }: { apiKey: ApiKey }) {
  const parts = [
    capText(apiKey.daily_credit_cap, apiKey.spent_today, 'today'),
    capText(apiKey.monthly_credit_cap, apiKey.spent_this_month, 'this month'),
  ].filter(Boolean);
  return <>{parts.length ? parts.join(' · ') : <span className="muted">No cap</span>}</>;
}

/** The secret, once: the server keeps only a hash, so this is the only chance to copy it. */
function NewSecret({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard?.writeText(created.key);
    setCopied(true);
  };
  return (
    <div className="alert alert-success" role="status">
      <p>
        Key <strong>{created.name}</strong> created. Copy it now and store it in the service's secrets:
        it will not be shown again.
      </p>
      <p>
        <code data-testid="new-api-key">{created.key}</code>
      </p>
      <button type="button" className="button secondary small" onClick={copy}>
        {copied ? 'Copied' : 'Copy key'}
      </button>{' '}
      <button type="button" className="button secondary small" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['usage:write', 'billing:read']);
  const [expires, setExpires] = useState('');
  const [daily, setDaily] = useState('');
  const [monthly, setMonthly] = useState('');
  const create = useCreateApiKey();
  const errors = fieldErrorsOf(create.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        name,
        scopes,
        expires_at: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null,
        daily_credit_cap: capFromInput(daily),
        monthly_credit_cap: capFromInput(monthly),
      },
      {
        onSuccess: (created) => {
          setName('');
          setExpires('');
          setDaily('');
          setMonthly('');
          onCreated(created);
        },
      },
    );
  };
  const toggle = (scope: ApiKeyScope) =>
    setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : [...scopes, scope]);

  return (
    <form onSubmit={submit} noValidate aria-label="Create an API key">
      <FormError error={create.error} fields={['name', 'scopes', 'expires_at', 'daily_credit_cap', 'monthly_credit_cap']} />
      <fieldset disabled={create.isPending}>
        <legend className="visually-hidden">New API key</legend>
        <div className="form-grid">
          <TextField label="Key name" value={name} errors={errors.name} hint="What service uses it"
            onChange={(e) => setName(e.target.value)} />
          <TextField label="Expires on (optional)" type="date" value={expires} errors={errors.expires_at}
            onChange={(e) => setExpires(e.target.value)} />
          <TextField label="Daily credit cap (optional)" type="number" min={0} value={daily}
            errors={errors.daily_credit_cap} onChange={(e) => setDaily(e.target.value)} />
          <TextField label="Monthly credit cap (optional)" type="number" min={0} value={monthly}
            errors={errors.monthly_credit_cap} onChange={(e) => setMonthly(e.target.value)} />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {API_KEY_SCOPES.map(({ scope, label }) => (
            <label key={scope} className="block">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> {label}
            </label>
          ))}
          {errors.scopes?.map((message) => (
            <p key={message} className="field-errors">{message}</p>
          ))}
        </fieldset>
      </fieldset>
      <button type="submit" className="button primary" disabled={create.isPending}>
        {create.isPending ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}

function EditKeyForm({ apiKey, onDone }: { apiKey: ApiKey; onDone: () => void }) {
  const [name, setName] = useState(apiKey.name);
  const [daily, setDaily] = useState(apiKey.daily_credit_cap?.toString() ?? '');
  const [monthly, setMonthly] = useState(apiKey.monthly_credit_cap?.toString() ?? '');
  const update = useUpdateApiKey();
  const errors = fieldErrorsOf(update.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate(
      { id: apiKey.id, name, daily_credit_cap: capFromInput(daily), monthly_credit_cap: capFromInput(monthly) },
      { onSuccess: onDone },
    );
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Edit ${apiKey.name}`}>
      <FormError error={update.error} fields={['name', 'daily_credit_cap', 'monthly_credit_cap']} />
      <div className="form-grid">
        <TextField label="Key name" value={name} errors={errors.name} onChange={(e) => setName(e.target.value)} />
        <TextField label="Daily credit cap" type="number" min={0} value={daily} hint="Empty: no cap"
          errors={errors.daily_credit_cap} onChange={(e) => setDaily(e.target.value)} />
        <TextField label="Monthly credit cap" type="number" min={0} value={monthly} hint="Empty: no cap"
          errors={errors.monthly_credit_cap} onChange={(e) => setMonthly(e.target.value)} />
      </div>
      <button type="submit" className="button primary small" disabled={update.isPending}>
        {update.isPending ? 'Saving…' : 'Save key'}
      </button>{' '}
      <button type="button" className="button secondary small" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}

/** The settings page's "API keys" card: owners and admins create, rename, cap and revoke service keys. */
export function ApiKeysSection() {
  const role = useRole();
  const manager = canManage(role);
  const keys = useApiKeys(manager);
  const revoke = useRevokeApiKey();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [editing, setEditing] = useState<ApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  if (!manager) return null;

  const columns: Column<ApiKey>[] = [
    {
      header: 'Key',
      cell: (k) => (
        <>
          <span className="strong">{k.name}</span>
          <code className="block">{k.prefix}…</code>
        </>
      ),
    },
    { header: 'Scopes', cell: (k) => k.scopes.join(', ') },
    { header: 'Status', cell: (k) => <StatusBadge status={k.status} /> },
    { header: 'Spending caps', cell: (k) => <CapsCell apiKey={k} /> },
    { header: 'Last used', cell: (k) => (k.last_used_at ? formatDateTime(k.last_used_at) : 'Never') },
    { header: 'Expires', cell: (k) => (k.expires_at ? formatDate(k.expires_at) : 'Never') },
    {
      header: 'Created by',
      cell: (k) => (
        <>
          {k.created_by || '—'}
          {k.creator_removed && <span className="muted block">no longer a member; the key still works</span>}
        </>
      ),
    },
    {
      header: <span className="visually-hidden">Actions</span>,
      cell: (k) =>
        k.status === 'active' && (
          <>
            <button type="button" className="button secondary small" onClick={() => setEditing(k)}
              aria-label={`Edit ${k.name}`}>
              Edit
            </button>{' '}
            <button type="button" className="button danger small" onClick={() => setRevoking(k)}
              aria-label={`Revoke ${k.name}`}>
              Revoke
            </button>
          </>
        ),
    },
  ];

  return (
    <section className="card" aria-labelledby="api-keys-heading">
      <h2 id="api-keys-heading">API keys</h2>
      <p className="muted">
        Keys let the platform's services meter credits for this account (<code>Authorization: Bearer cdk_live_…</code>).
        A key is not a member: it keeps working when the person who made it leaves.
      </p>
      {created && <NewSecret created={created} onDone={() => setCreated(null)} />}
      <CreateKeyForm onCreated={setCreated} />
      {editing && <EditKeyForm key={editing.id} apiKey={editing} onDone={() => setEditing(null)} />}
      <FormError error={revoke.error} />
      <QueryState query={keys} what="API keys" isEmpty={(d) => d.results.length === 0}>
        {(data) => <DataTable caption="API keys" columns={columns} rows={data.results} rowKey={(k) => k.id} />}
      </QueryState>
      {revoking && (
        <ConfirmDialog
          title="Revoke API key?"
          confirmLabel="Revoke"
          busy={revoke.isPending}
          onCancel={() => setRevoking(null)}
          onConfirm={() => revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) })}
        >
          <p>
            {revoking.name} ({revoking.prefix}…) will be refused from its next request. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
