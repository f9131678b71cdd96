import { Link } from 'react-router-dom';
import type { Column } from '../components/DataTable';
import { FilterBar } from '../components/FilterBar';
import { PagedTable } from '../components/PagedTable';
import { useListFilters } from '../hooks/useListFilters';
import { formatDateTime } from '../lib/format';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import { useAuditLog, type AuditLogEntry } from '../services/exports.api';

const PAGE_SIZE = 25;

/** The actions the product records; the filter sends the exact action to `account/audit-log/?action=`. */
const AUDIT_ACTIONS = [
  'account.registered',
  'auth.login',
  'settings.updated',
  'team.invited',
  'team.invitation_accepted',
  'team.role_changed',
  'team.removed',
  'credits.adjusted',
  'credits.purchase_started',
  'payment.succeeded',
  'payment.processing',
  'payment.failed',
  'payment.expired',
  'payment.refunded',
  'payment.partially_refunded',
  'payment.paid_after_failure',
  'payment.webhook_mismatch',
  'bank_transfer.confirmed',
  'bank_transfer.approved',
  'bank_transfer.rejected',
];
const ACTION_OPTIONS = AUDIT_ACTIONS.map((action) => ({ value: action, label: action }));

function summarize(changes: Record<string, unknown>): string {
  const text = Object.entries(changes)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return text.length > 160 ? `${text.slice(0, 157)}…` : text || '—';
}

const COLUMNS: Column<AuditLogEntry>[] = [
  { header: 'When', cell: (e) => formatDateTime(e.created_at) },
  { header: 'Who', cell: (e) => e.actor_email || 'System' },
  { header: 'Action', cell: (e) => <code>{e.action}</code> },
  { header: 'Target', cell: (e) => e.target || '—' },
  { header: 'Details', cell: (e) => <span title={JSON.stringify(e.changes)}>{summarize(e.changes)}</span> },
  { header: 'From', cell: (e) => e.ip_address || '—' },
];

export default function AuditLogPage() {
  const role = useRole();
  const mayRead = canManage(role);
  const list = useListFilters('action', PAGE_SIZE);
  const entries = useAuditLog(list.query, mayRead);

  return (
    <>
      <p className="breadcrumb">
        <Link to="/account/settings">Settings</Link> /
      </p>
      <h1>Audit log</h1>
      {!role ? null : !mayRead ? (
        <p className="state">Only owners and admins can read the audit log.</p>
      ) : (
        <section className="card">
          <p className="muted">Who did what in this account, when, and from which address.</p>
          <FilterBar typeLabel="Action" typeOptions={ACTION_OPTIONS} filters={list.filters}
            onChange={list.setFilter} onClear={list.clear} isFiltered={list.isFiltered} />
          <PagedTable what="audit log entries" query={entries} columns={COLUMNS} rowKey={(e) => e.id}
            page={list.page} pageSize={PAGE_SIZE} onPage={list.setPage}
            empty={<p>{list.isFiltered ? 'No entries match these filters.' : 'Nothing recorded yet.'}</p>} />
        </section>
      )}
    </>
  );
}
