import { Link } from 'react-router-dom';
import type { Column } from '../components/DataTable';
import { DownloadCsvButton } from '../components/DownloadCsvButton';
import { FilterBar } from '../components/FilterBar';
import { PagedTable } from '../components/PagedTable';
import { useListFilters } from '../hooks/useListFilters';
import { formatCredits, formatDateTime, formatMoney, humanize } from '../lib/format';
import { useCreditCosts, useUsageLogs } from '../services/billing.api';
import type { UsageLog } from '../services/types';

const PAGE_SIZE = 20;

const COLUMNS: Column<UsageLog>[] = [
  { header: 'Date', cell: (u) => formatDateTime(u.created_at) },
  { header: 'Operation', cell: (u) => humanize(u.operation_type) },
  { header: 'Credits', numeric: true, cell: (u) => formatCredits(u.credits_used) },
  { header: 'Cost', numeric: true, cell: (u) => formatMoney(u.cost_usd) },
  { header: 'Model', cell: (u) => u.model || '—' },
  {
    header: 'Tokens in / out',
    numeric: true,
    cell: (u) => (u.tokens_input === null && u.tokens_output === null ? '—' : `${u.tokens_input ?? 0} / ${u.tokens_output ?? 0}`),
  },
  { header: 'Reference', cell: (u) => u.reference_id || '—' },
];

export default function UsageLogsPage() {
  const list = useListFilters('operation_type', PAGE_SIZE);
  const usage = useUsageLogs(list.query);
  // The operation types a usage log can have are the ones the catalogue prices.
  const costs = useCreditCosts();
  const typeOptions = (costs.data?.results ?? []).map((cost) => ({ value: cost.operation_type, label: cost.display_name }));

  return (
    <>
      <p className="breadcrumb">
        <Link to="/account/billing">Billing</Link> /
      </p>
      <h1>Usage logs</h1>
      <section className="card">
        <FilterBar typeLabel="Operation type" typeOptions={typeOptions} filters={list.filters}
          onChange={list.setFilter} onClear={list.clear} isFiltered={list.isFiltered} />
        <DownloadCsvButton path="billing/credits/usage/export/" query={list.query} what="usage logs" />
        <PagedTable what="usage logs" query={usage} columns={COLUMNS} rowKey={(u) => u.id}
          page={list.page} pageSize={PAGE_SIZE} onPage={list.setPage}
          empty={<p>{list.isFiltered ? 'No usage matches these filters.' : 'No usage recorded yet.'}</p>} />
      </section>
    </>
  );
}
