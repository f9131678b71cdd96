import { Link } from 'react-router-dom';
import { formatCredits } from '../lib/format';
import { useCreditBalance } from '../services/billing.api';
import { QueryState } from './QueryState';
import { StatCard } from './StatCard';

export function BalanceCard() {
  const balance = useCreditBalance();
  return (
    <section className="card" aria-labelledby="balance-heading">
      <div className="card-header">
        <h2 id="balance-heading">Credit balance</h2>
        <Link className="button primary small" to="/account/purchase-credits">
          Buy credits
        </Link>
      </div>
      <QueryState query={balance} what="your balance">
        {(data) => (
          <dl className="stats">
            <StatCard label="Credits" value={formatCredits(data.credits)} />
            <StatCard label="Plan credits per month" value={formatCredits(data.plan_credits_per_month)} />
            <StatCard label="Used this month" value={formatCredits(data.credits_used_this_month)} />
            <StatCard label="Remaining" value={formatCredits(data.credits_remaining)} />
          </dl>
        )}
      </QueryState>
    </section>
  );
}
