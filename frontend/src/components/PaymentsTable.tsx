import { useState } from 'react';
import { formatDateTime, formatMoney, humanize } from '../lib/format';
import { usePayments } from '../services/billing.api';
import type { Payment } from '../services/types';
import type { Column } from './DataTable';
import { PagedTable } from './PagedTable';
import { StatusBadge } from './StatusBadge';

const PAGE_SIZE = 10;

const COLUMNS: Column<Payment>[] = [
  { header: 'Date', cell: (p) => formatDateTime(p.created_at) },
  { header: 'Invoice', cell: (p) => p.invoice_number },
  { header: 'Method', cell: (p) => humanize(p.payment_method) },
  { header: 'Amount', numeric: true, cell: (p) => formatMoney(p.amount, p.currency) },
  {
    header: 'Status',
    cell: (p) => (
      <>
        <StatusBadge status={p.status} />
        {p.failure_reason && <span className="muted"> {p.failure_reason}</span>}
      </>
    ),
  },
];

export function PaymentsTable() {
  const [page, setPage] = useState(1);
  const payments = usePayments({ page, page_size: PAGE_SIZE });
  return (
    <section className="card" aria-labelledby="payments-heading">
      <h2 id="payments-heading">Payments</h2>
      <PagedTable what="payments" query={payments} columns={COLUMNS} rowKey={(p) => p.id}
        page={page} pageSize={PAGE_SIZE} onPage={setPage} empty={<p>No payments yet.</p>} />
    </section>
  );
}
