import { formatCredits } from '../lib/format';
import { useCreditCosts } from '../services/billing.api';
import type { CreditCost } from '../services/types';
import { DataTable, type Column } from './DataTable';
import { QueryState } from './QueryState';

const COLUMNS: Column<CreditCost>[] = [
  { header: 'Operation', cell: (c) => c.display_name },
  { header: 'Credits', numeric: true, cell: (c) => formatCredits(c.credits_per_unit) },
  { header: 'Per', cell: (c) => c.unit || 'call' },
];

/** What each operation costs in credits: the price list metering charges from. */
export function PriceList() {
  const costs = useCreditCosts();
  return (
    <section className="card" aria-labelledby="price-list-heading">
      <h2 id="price-list-heading">Price list</h2>
      <p className="muted">Credits each operation takes from your balance.</p>
      <QueryState query={costs} what="the price list" isEmpty={(d) => !d.results.some((c) => c.is_active)}
        empty={<p>No operations are priced yet.</p>}>
        {(data) => (
          <DataTable caption="Credits per operation" columns={COLUMNS} rows={data.results.filter((c) => c.is_active)}
            rowKey={(c) => c.operation_type} />
        )}
      </QueryState>
    </section>
  );
}
