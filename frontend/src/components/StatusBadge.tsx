import { humanize } from '../lib/format';

const TONES: Record<string, string> = {
  paid: 'good',
  succeeded: 'good',
  active: 'good',
  pending: 'warn',
  pending_approval: 'warn',
  processing: 'warn',
  invited: 'warn',
  expired: 'bad',
  inactive: 'neutral',
  draft: 'neutral',
  failed: 'bad',
  void: 'bad',
  refunded: 'neutral',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${TONES[status] ?? 'neutral'}`}>{humanize(status)}</span>;
}
