import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageAnalytics } from '../services/types';

const dayLabel = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
// The API's dates are UTC calendar days; format them as such, not shifted into the viewer's zone.
const formatDay = (date: string) => dayLabel.format(new Date(`${date}T00:00:00Z`));

export function UsageChart({ daily }: { daily: UsageAnalytics['daily_usage'] }) {
  return (
    <figure className="chart" aria-label="Daily credits used and purchased">
      <ResponsiveContainer width="100%" height={280} initialDimension={{ width: 600, height: 280 }}>
        <BarChart data={daily} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="date" tickFormatter={formatDay} minTickGap={16} fontSize={12} />
          <YAxis allowDecimals={false} width={48} fontSize={12} />
          <Tooltip labelFormatter={(label) => formatDay(String(label))} />
          <Legend />
          <Bar dataKey="usage" name="Used" fill="#d9534f" isAnimationActive={false} radius={[3, 3, 0, 0]} />
          <Bar dataKey="purchases" name="Purchased" fill="#2e7d5b" isAnimationActive={false} radius={[3, 3, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
