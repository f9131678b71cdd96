import type { CreditBalance } from '../services/types';

/** Below this share of the plan's monthly credits the balance counts as low (unless the account set its own threshold). */
export const LOW_BALANCE_SHARE = 0.1;

export type BalanceLevel = 'empty' | 'low' | 'ok';

export function balanceLevel(balance: CreditBalance): BalanceLevel {
  const available = balance.credits_remaining;
  if (available <= 0) return 'empty';
  const threshold =
    balance.low_balance_threshold ?? (balance.plan_credits_per_month > 0 ? balance.plan_credits_per_month * LOW_BALANCE_SHARE : 0);
  return available < threshold ? 'low' : 'ok';
}
