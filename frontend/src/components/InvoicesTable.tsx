import { useState } from 'react';
import { formatDate, formatMoney } from '../lib/format';
import { errorMessage } from '../services/api';
import { useDownloadInvoicePdf, useInvoices } from '../services/billing.api';
import type { Invoice } from '../services/types';
import type { Column } from './DataTable';
import { PagedTable } from './PagedTable';
import { StatusBadge } from './StatusBadge';

const PAGE_SIZE = 10;

function PdfButton({ invoice }: { invoice: Invoice }) {
  const download = useDownloadInvoicePdf();
  return (
    <>
      <button
        type="button"
        className="button secondary small"
        onClick={() => download.mutate(invoice)}
        disabled={download.isPending}
        aria-label={`Download PDF of invoice ${invoice.invoice_number}`}
      >
        {download.isPending ? 'Preparing…' : 'PDF'}
      </button>
      {download.isError && (
        <span className="inline-error" role="alert">
          {errorMessage(download.error)}
        </span>
      )}
    </>
  );
}

const COLUMNS: Column<Invoice>[] = [
  { header: 'Invoice', cell: (i) => i.invoice_number },
  { header: 'Date', cell: (i) => formatDate(i.created_at) },
  { header: 'Total', numeric: true, cell: (i) => formatMoney(i.total_amount, i.currency) },
  { header: 'Status', cell: (i) => <StatusBadge status={i.status} /> },
  { header: <span className="visually-hidden">Download</span>, cell: (i) => <PdfButton invoice={i} /> },
];

export function InvoicesTable() {
  const [page, setPage] = useState(1);
  const invoices = useInvoices({ page, page_size: PAGE_SIZE });
  return (
    <section className="card" aria-labelledby="invoices-heading">
      <h2 id="invoices-heading">Invoices</h2>
      <p className="scroll-hint" aria-hidden="true">
        Swipe the table sideways for status and PDF →
      </p>
      <PagedTable what="invoices" query={invoices} columns={COLUMNS} rowKey={(i) => i.id}
        page={page} pageSize={PAGE_SIZE} onPage={setPage}
        empty={<p>No invoices yet. They appear here when you buy credits.</p>} />
    </section>
  );
}
