import { Link } from 'react-router-dom';
import { balanceLevel } from '../lib/balance';
import { formatCredits, formatDate, formatRelative, humanize } from '../lib/format';
import { useOperationName } from '../hooks/useOperationName';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import { useActiveHolds, useCreditBalance } from '../services/billing.api';
import type { CreditBalance } from '../services/types';
import { QueryState } from './QueryState';
import { StatCard } from './StatCard';

function Breakdown({ breakdown }: { breakdown: NonNullable<CreditBalance['breakdown']> }) {
  const parts = breakdown.filter((part) => part.credits > 0);
  if (parts.length === 0) return null;
  return (
    <p className="muted balance-breakdown">
      Made of{' '}
      {parts.map((part, index) => (
        <span key={part.source}>
          {index > 0 && (index === parts.length - 1 ? ' and ' : ', ')}
          {formatCredits(part.credits)} {part.source === 'plan' ? 'plan' : humanize(part.source).toLowerCase()}
        </span>
      ))}{' '}
      credits.
    </p>
  );
}

function BalanceFigures({ data }: { data: CreditBalance }) {
  const held = data.held ?? 0;
  const level = balanceLevel(data);
  return (
    <>
      <dl className="stats">
        <StatCard label="Available now" value={<span className={level === 'ok' ? undefined : 'negative'}>{formatCredits(data.credits_remaining)}</span>}
          hint={held > 0 ? `${formatCredits(data.credits)} in the balance, ${formatCredits(held)} held by running jobs` : undefined} />
        <StatCard label="Used this month" value={formatCredits(data.credits_used_this_month)} />
        <StatCard label="Plan credits per month" value={formatCredits(data.plan_credits_per_month)} />
        <StatCard label="Next monthly grant" value={data.next_grant_at ? formatDate(data.next_grant_at) : '—'}
          hint={data.next_grant_at ? `${formatCredits(data.plan_credits_per_month)} credits ${formatRelative(data.next_grant_at)}` : undefined} />
      </dl>
      {data.breakdown && <Breakdown breakdown={data.breakdown} />}
      {data.next_expiry && data.next_expiry.credits > 0 && (
        <p className="notice" role="note">
          {formatCredits(data.next_expiry.credits)} credits expire on {formatDate(data.next_expiry.expires_at)} (
          {formatRelative(data.next_expiry.expires_at)}). They are used first.
        </p>
      )}
    </>
  );
}

/** Credits reserved by jobs still running: they come back if a job releases its hold. */
function CreditsInFlight() {
  const holds = useActiveHolds();
  const operationName = useOperationName();
  const active = (holds.data?.results ?? []).filter((hold) => hold.status === 'active');
  if (active.length === 0) return null;
  const total = active.reduce((sum, hold) => sum + hold.remaining, 0);
  return (
    <details className="in-flight">
      <summary>
        {formatCredits(total)} credits in flight for {active.length} running {active.length === 1 ? 'job' : 'jobs'}
      </summary>
      <ul>
        {active.map((hold) => (
          <li key={hold.id}>
            {formatCredits(hold.remaining)} credits: {operationName(hold.operation_type)}
            {hold.reference_id && <code className="ref">{hold.reference_id}</code>}
          </li>
        ))}
      </ul>
    </details>
  );
}

export function BalanceCard() {
  const balance = useCreditBalance();
  const mayBuy = canManage(useRole());
  const planName = balance.data?.plan_name;
  return (
    <section className="card" aria-labelledby="balance-heading">
      <div className="card-header">
        <h2 id="balance-heading">
          Credit balance{planName && <span className="muted heading-note"> · {planName} plan</span>}
        </h2>
        {mayBuy && (
          <Link className="button primary small" to="/account/purchase-credits">
            Buy credits
          </Link>
        )}
      </div>
      <QueryState query={balance} what="your balance">
        {(data) => <BalanceFigures data={data} />}
      </QueryState>
      <CreditsInFlight />
    </section>
  );
}
