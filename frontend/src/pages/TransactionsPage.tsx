import { Link } from 'react-router-dom';
import type { Column } from '../components/DataTable';
import { DownloadCsvButton } from '../components/DownloadCsvButton';
import { FilterBar } from '../components/FilterBar';
import { PagedTable } from '../components/PagedTable';
import { useListFilters } from '../hooks/useListFilters';
import { formatCredits, formatDateTime, humanize } from '../lib/format';
import { useTransactions } from '../services/billing.api';
import { TRANSACTION_TYPES, type CreditTransaction } from '../services/types';

const PAGE_SIZE = 20;
const TYPE_OPTIONS = TRANSACTION_TYPES.map((type) => ({ value: type, label: humanize(type) }));

const COLUMNS: Column<CreditTransaction>[] = [
  { header: 'Date', cell: (t) => formatDateTime(t.created_at) },
  { header: 'Type', cell: (t) => humanize(t.transaction_type) },
  { header: 'Description', cell: (t) => t.description || '—' },
  {
    header: 'Credits',
    numeric: true,
    cell: (t) => <span className={t.amount < 0 ? 'negative' : 'positive'}>{t.amount > 0 ? '+' : ''}{formatCredits(t.amount)}</span>,
  },
  { header: 'Balance after', numeric: true, cell: (t) => formatCredits(t.balance_after) },
];

export default function TransactionsPage() {
  const list = useListFilters('transaction_type', PAGE_SIZE);
  const transactions = useTransactions(list.query);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/account/billing">Billing</Link> /
      </p>
      <h1>Credit transactions</h1>
      <section className="card">
        <FilterBar typeLabel="Transaction type" typeOptions={TYPE_OPTIONS} filters={list.filters}
          onChange={list.setFilter} onClear={list.clear} isFiltered={list.isFiltered} rangeError={list.rangeError} />
        <DownloadCsvButton path="billing/transactions/export/" query={list.query} what="transactions" />
        <PagedTable what="transactions" query={transactions} columns={COLUMNS} rowKey={(t) => t.id}
          page={list.page} pageSize={PAGE_SIZE} onPage={list.setPage}
          empty={<p>{list.isFiltered ? 'No transactions match these filters.' : 'No transactions yet.'}</p>} />
      </section>
    </>
  );
}
