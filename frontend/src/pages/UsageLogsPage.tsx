import { Link } from 'react-router-dom';
import type { Column } from '../components/DataTable';
import { DownloadCsvButton } from '../components/DownloadCsvButton';
import { FilterBar } from '../components/FilterBar';
import { PagedTable } from '../components/PagedTable';
import { useListFilters } from '../hooks/useListFilters';
import { formatCredits, formatDateTime } from '../lib/format';
import { useOperationName } from '../hooks/useOperationName';
import { useCreditCosts, useUsageLogs } from '../services/billing.api';
import type { UsageLog } from '../services/types';

const PAGE_SIZE = 20;

function tokens(log: UsageLog): string {
  if (log.tokens_input === null && log.tokens_output === null) return '—';
  return `${formatCredits(log.tokens_input ?? 0)} in / ${formatCredits(log.tokens_output ?? 0)} out`;
}

// `cost_usd` stays in the API (the contract has it) but is the platform's provider cost for the call,
// not something the customer pays: the page shows credits as the price, and model and tokens as detail.
function columns(operationName: (code: string) => string): Column<UsageLog>[] {
  return [
    { header: 'Date', cell: (u) => formatDateTime(u.created_at) },
    { header: 'Operation', cell: (u) => operationName(u.operation_type) },
    { header: 'Credits', numeric: true, cell: (u) => formatCredits(u.credits_used) },
    { header: 'Model', cell: (u) => u.model || '—' },
    { header: 'Tokens', numeric: true, cell: tokens },
    {
      header: 'Your reference',
      cell: (u) => (u.reference_id ? <code className="ref" title={u.reference_id}>{u.reference_id}</code> : '—'),
    },
  ];
}

export default function UsageLogsPage() {
  const list = useListFilters('operation_type', PAGE_SIZE);
  const usage = useUsageLogs(list.query);
  const operationName = useOperationName();
  // The operation types a usage log can have are the ones the catalogue prices, named as it names them.
  const costs = useCreditCosts();
  const typeOptions = (costs.data?.results ?? []).map((cost) => ({ value: cost.operation_type, label: cost.display_name }));

  return (
    <>
      <p className="breadcrumb">
        <Link to="/account/billing">Billing</Link> /
      </p>
      <h1>Usage logs</h1>
      <section className="card">
        <FilterBar typeLabel="Operation" typeOptions={typeOptions} filters={list.filters}
          onChange={list.setFilter} onClear={list.clear} isFiltered={list.isFiltered} rangeError={list.rangeError} />
        <DownloadCsvButton path="billing/credits/usage/export/" query={list.query} what="usage logs" />
        <PagedTable what="usage logs" query={usage} columns={columns(operationName)} rowKey={(u) => u.id}
          page={list.page} pageSize={PAGE_SIZE} onPage={list.setPage}
          empty={<p>{list.isFiltered ? 'No usage matches these filters.' : 'No usage recorded yet.'}</p>} />
      </section>
    </>
  );
}
