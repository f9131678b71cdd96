import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { DataTable, type Column } from '../components/DataTable';
import { TextField } from '../components/Field';
import { QueryState } from '../components/QueryState';
import { StatCard } from '../components/StatCard';
import { InflowChart, OperationChart, UsageChart } from '../components/UsageChart';
import { formatCredits, formatDate, humanize } from '../lib/format';
import { useOperationName } from '../hooks/useOperationName';
import { useUsageAnalytics, type AnalyticsPeriod } from '../services/account.api';
import type { UsageAnalytics } from '../services/types';

const PERIODS = [7, 30, 90];
const MAX_RANGE_DAYS = 365;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

type ByType = UsageAnalytics['usage_by_type'][number];
type ByOperation = UsageAnalytics['usage_by_operation'][number];

const TYPE_COLUMNS: Column<ByType>[] = [
  { header: 'Type', cell: (row) => humanize(row.transaction_type) },
  { header: 'Transactions', numeric: true, cell: (row) => formatCredits(row.count) },
  { header: 'Credits', numeric: true, cell: (row) => formatCredits(row.total) },
];

const utcDay = (iso: string) => formatDate(`${iso}T12:00:00Z`);

function rangeProblem(start: string, end: string): string {
  if (!start || !end) return 'Choose both a From and a To date.';
  if (start > end) return 'The From date must be on or before the To date.';
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_RANGE_DAYS) return `A range covers at most ${MAX_RANGE_DAYS} days.`;
  return '';
}

function PeriodPicker({ period, onChange }: { period: AnalyticsPeriod; onChange: (period: AnalyticsPeriod) => void }) {
  const custom = !('days' in period);
  const [showRange, setShowRange] = useState(custom);
  const [start, setStart] = useState(custom ? period.start : '');
  const [end, setEnd] = useState(custom ? period.end : '');
  const [problem, setProblem] = useState('');

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const found = rangeProblem(start, end);
    setProblem(found);
    if (!found) onChange({ start, end });
  };

  return (
    <div className="period-picker">
      <fieldset className="segmented">
        <legend>Period</legend>
        {PERIODS.map((days) => (
          <label key={days}>
            <input type="radio" name="period" value={days} checked={!custom && !showRange && period.days === days}
              onChange={() => {
                setShowRange(false);
                onChange({ days });
              }} />
            <span>{days} days</span>
          </label>
        ))}
        <label>
          <input type="radio" name="period" value="custom" checked={custom || showRange} onChange={() => setShowRange(true)} />
          <span>Custom</span>
        </label>
      </fieldset>
      {(custom || showRange) && (
        <form className="range-form" onSubmit={apply} noValidate aria-label="Custom date range">
          <TextField label="From" type="date" value={start} max={end || undefined} onChange={(e) => setStart(e.target.value)} />
          <TextField label="To" type="date" value={end} min={start || undefined} errors={problem ? [problem] : undefined}
            onChange={(e) => setEnd(e.target.value)} />
          <button type="submit" className="button secondary">
            Show
          </button>
        </form>
      )}
    </div>
  );
}

function AnalyticsView({ data }: { data: UsageAnalytics }) {
  const operationName = useOperationName();
  const totalGrants = data.total_grants ?? 0;
  const active = data.total_usage !== 0 || data.total_purchases !== 0 || totalGrants !== 0;
  const operations = data.usage_by_operation.map((row) => ({ ...row, name: operationName(row.operation_type) }));
  const operationColumns: Column<ByOperation & { name: string }>[] = [
    { header: 'Operation', cell: (row) => row.name },
    { header: 'Calls', numeric: true, cell: (row) => formatCredits(row.count) },
    { header: 'Credits', numeric: true, cell: (row) => formatCredits(row.credits) },
  ];
  const period = data.start && data.end ? `${utcDay(data.start)} – ${utcDay(data.end)}` : `the last ${data.period_days} days`;
  return (
    <>
      <p className="muted">Showing {period} (UTC days).</p>
      <dl className="stats">
        <StatCard label="Credits used" value={formatCredits(data.total_usage)} />
        <StatCard label="Credits purchased" value={formatCredits(data.total_purchases)} />
        <StatCard label="Plan grants" value={data.total_grants === undefined ? '—' : formatCredits(totalGrants)} />
        <StatCard label="Current balance" value={formatCredits(data.current_balance)} />
      </dl>
      {active ? (
        <>
          <div className="two-col">
            <section className="card" aria-labelledby="daily-heading">
              <h2 id="daily-heading">Daily usage</h2>
              <UsageChart daily={data.daily_usage} />
            </section>
            <section className="card" aria-labelledby="inflow-heading">
              <h2 id="inflow-heading">Credits added</h2>
              <InflowChart daily={data.daily_usage} />
            </section>
          </div>
          <section className="card" aria-labelledby="by-operation-heading">
            <h2 id="by-operation-heading">Usage by operation</h2>
            {operations.length ? (
              <div className="two-col tight">
                <OperationChart rows={operations} />
                <DataTable caption="Usage by operation" columns={operationColumns} rows={operations}
                  rowKey={(row) => row.operation_type} />
              </div>
            ) : (
              <p className="state state-empty">No metered operations in this period.</p>
            )}
          </section>
          <section className="card" aria-labelledby="by-type-heading">
            <h2 id="by-type-heading">Credits by transaction type</h2>
            <DataTable caption="Credits by transaction type" columns={TYPE_COLUMNS} rows={data.usage_by_type}
              rowKey={(row) => row.transaction_type} />
          </section>
        </>
      ) : (
        <p className="state state-empty">No credit activity in {period}.</p>
      )}
    </>
  );
}

/** The period lives in the URL (?days=30, or ?start=…&end=…) so reload and shared links keep it. */
function usePeriod(): [AnalyticsPeriod, (period: AnalyticsPeriod) => void] {
  const [params, setParams] = useSearchParams();
  const start = params.get('start') ?? '';
  const end = params.get('end') ?? '';
  const requested = Number(params.get('days'));
  const period: AnalyticsPeriod =
    DAY.test(start) && DAY.test(end) && !rangeProblem(start, end)
      ? { start, end }
      : { days: PERIODS.includes(requested) ? requested : 30 };
  const set = (next: AnalyticsPeriod) =>
    setParams('days' in next ? { days: String(next.days) } : { start: next.start, end: next.end }, { replace: true });
  return [period, set];
}

export default function UsageAnalyticsPage() {
  const [period, setPeriod] = usePeriod();
  const analytics = useUsageAnalytics(period);

  return (
    <>
      <div className="page-header">
        <h1>Usage</h1>
        <PeriodPicker period={period} onChange={setPeriod} />
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
