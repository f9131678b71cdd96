import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatCredits } from '../lib/format';
import type { UsageAnalytics } from '../services/types';

const dayLabel = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
// The API's dates are UTC calendar days; format them as such, not shifted into the viewer's zone.
const formatDay = (date: string) => dayLabel.format(new Date(`${date}T00:00:00Z`));
const tooltipValue = (value: unknown) => formatCredits(Number(value));

type Daily = UsageAnalytics['daily_usage'];

function DailyBars({ label, data, children }: { label: string; data: Daily; children: React.ReactNode }) {
  return (
    <figure className="chart" aria-label={label}>
      <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 600, height: 240 }}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="date" tickFormatter={formatDay} minTickGap={16} fontSize={12} />
          <YAxis allowDecimals={false} width={48} fontSize={12} tickFormatter={formatCompact} />
          <Tooltip labelFormatter={(l) => formatDay(String(l))} formatter={tooltipValue} />
          <Legend />
          {children}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Daily usage on its own scale: a large purchase on one day no longer flattens it into slivers. */
export function UsageChart({ daily }: { daily: Daily }) {
  return (
    <DailyBars label="Credits used per day" data={daily}>
      <Bar dataKey="usage" name="Used" fill="#d9534f" isAnimationActive={false} radius={[3, 3, 0, 0]} />
    </DailyBars>
  );
}

/** What came in: purchases and the plan's monthly grants, stacked. */
export function InflowChart({ daily }: { daily: Daily }) {
  const rows = daily.map((day) => ({ ...day, grants: day.grants ?? 0 }));
  return (
    <DailyBars label="Credits added per day" data={rows}>
      <Bar dataKey="purchases" name="Purchased" stackId="in" fill="#2e7d5b" isAnimationActive={false} />
      <Bar dataKey="grants" name="Plan grants" stackId="in" fill="#2f6fde" isAnimationActive={false} radius={[3, 3, 0, 0]} />
    </DailyBars>
  );
}

/** Usage by operation as bars, beside its table. */
export function OperationChart({ rows }: { rows: { name: string; credits: number }[] }) {
  return (
    <figure className="chart" aria-label="Credits used by operation">
      <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 36 + 40)}
        initialDimension={{ width: 400, height: Math.max(120, rows.length * 36 + 40) }}>
        <BarChart data={rows} layout="vertical" margin={{ top: 0, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" allowDecimals={false} fontSize={12} tickFormatter={formatCompact} />
          <YAxis type="category" dataKey="name" width={130} fontSize={12} />
          <Tooltip formatter={tooltipValue} />
          <Bar dataKey="credits" name="Credits" fill="#d9534f" isAnimationActive={false} radius={[0, 3, 3, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
