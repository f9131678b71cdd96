import { Link } from 'react-router-dom';
import { balanceLevel } from '../lib/balance';
import { formatCredits, formatDate } from '../lib/format';
import { canManage } from '../lib/roles';
import { useRole } from '../services/auth.api';
import { useCreditBalance } from '../services/billing.api';

/** Shown on every page while the balance is at zero or low; only people who can buy get the Buy button. */
export function LowBalanceBanner() {
  const balance = useCreditBalance();
  const role = useRole();
  if (!balance.data) return null;
  const level = balanceLevel(balance.data);
  if (level === 'ok') return null;
  const { credits_remaining: remaining, next_grant_at: nextGrant } = balance.data;
  const mayBuy = canManage(role);
  return (
    <div className={`banner banner-${level === 'empty' ? 'bad' : 'warn'}`} role="alert" aria-label="Low balance">
      <p>
        <strong>{level === 'empty' ? 'You are out of credits.' : `Your balance is low: ${formatCredits(remaining)} credits left.`}</strong>{' '}
        {level === 'empty' ? 'Metered operations are refused until credits are added.' : 'Operations stop when it reaches zero.'}
        {nextGrant && ` Your plan adds credits on ${formatDate(nextGrant)}.`}
        {!mayBuy && ' Ask an owner or admin of this account to buy credits.'}
      </p>
      {mayBuy && (
        <Link className="button primary small" to="/account/purchase-credits">
          Buy credits
        </Link>
      )}
    </div>
  );
}
