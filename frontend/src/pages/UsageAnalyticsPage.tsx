import { useSearchParams } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { QueryState } from '../components/QueryState';
import { StatCard } from '../components/StatCard';
import { UsageChart } from '../components/UsageChart';
import { formatCredits, formatMoney, humanize } from '../lib/format';
import { useUsageAnalytics } from '../services/account.api';
import type { UsageAnalytics } from '../services/types';

const PERIODS = [7, 30, 90];

type ByType = UsageAnalytics['usage_by_type'][number];
type ByOperation = UsageAnalytics['usage_by_operation'][number];

const TYPE_COLUMNS: Column<ByType>[] = [
  { header: 'Type', cell: (row) => humanize(row.transaction_type) },
  { header: 'Transactions', numeric: true, cell: (row) => formatCredits(row.count) },
  { header: 'Credits', numeric: true, cell: (row) => formatCredits(row.total) },
];

const OPERATION_COLUMNS: Column<ByOperation>[] = [
  { header: 'Operation', cell: (row) => humanize(row.operation_type) },
  { header: 'Calls', numeric: true, cell: (row) => formatCredits(row.count) },
  { header: 'Credits', numeric: true, cell: (row) => formatCredits(row.credits) },
  { header: 'Cost', numeric: true, cell: (row) => formatMoney(row.cost_usd) },
];

function PeriodPicker({ days, onChange }: { days: number; onChange: (days: number) => void }) {
  return (
    <fieldset className="segmented">
      <legend>Period</legend>
      {PERIODS.map((period) => (
        <label key={period}>
          <input type="radio" name="period" value={period} checked={days === period} onChange={() => onChange(period)} />
          <span>{period} days</span>
        </label>
      ))}
    </fieldset>
  );
}

function AnalyticsView({ data }: { data: UsageAnalytics }) {
  const active = data.total_usage !== 0 || data.total_purchases !== 0;
  return (
    <>
      <dl className="stats">
        <StatCard label="Credits used" value={formatCredits(data.total_usage)} />
        <StatCard label="Credits purchased" value={formatCredits(data.total_purchases)} />
        <StatCard label="Current balance" value={formatCredits(data.current_balance)} />
      </dl>
      {active ? (
        <>
          <section className="card" aria-labelledby="daily-heading">
            <h2 id="daily-heading">Daily usage and purchases</h2>
            <UsageChart daily={data.daily_usage} />
          </section>
          <div className="two-col">
            <section className="card" aria-labelledby="by-operation-heading">
              <h2 id="by-operation-heading">Usage by operation</h2>
              {data.usage_by_operation.length ? (
                <DataTable caption="Usage by operation" columns={OPERATION_COLUMNS} rows={data.usage_by_operation}
                  rowKey={(row) => row.operation_type} />
              ) : (
                <p className="state state-empty">No metered operations in this period.</p>
              )}
            </section>
            <section className="card" aria-labelledby="by-type-heading">
              <h2 id="by-type-heading">Credits by transaction type</h2>
              <DataTable caption="Credits by transaction type" columns={TYPE_COLUMNS} rows={data.usage_by_type}
                rowKey={(row) => row.transaction_type} />
            </section>
          </div>
        </>
      ) : (
        <p className="state state-empty">No credit activity in the last {data.period_days} days.</p>
      )}
    </>
  );
}

export default function UsageAnalyticsPage() {
  const [params, setParams] = useSearchParams();
  const requested = Number(params.get('days'));
  const days = PERIODS.includes(requested) ? requested : 30;
  const analytics = useUsageAnalytics(days);

  return (
    <>
      <div className="page-header">
        <h1>Usage</h1>
        <PeriodPicker days={days} onChange={(d) => setParams({ days: String(d) }, { replace: true })} />
      </div>
      <QueryState query={analytics} what="usage analytics">
        {(data) => (
          <div className={analytics.isPlaceholderData ? 'is-refreshing' : undefined} aria-busy={analytics.isFetching}>
            <AnalyticsView data={data} />
          </div>
        )}
      </QueryState>
    </>
  );
}
