const numberFormat = new Intl.NumberFormat('en-US');
const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });

export const formatCredits = (credits: number) => numberFormat.format(credits);

/** Money arrives as a decimal string; Number() is exact enough for display of two-decimal amounts. */
export function formatMoney(amount: string | null | undefined, currency = 'USD'): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`; // an unknown currency code
  }
}

export const formatDate = (iso: string | null | undefined) => (iso ? dateFormat.format(new Date(iso)) : '—');
export const formatDateTime = (iso: string | null | undefined) => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

/** "pending_approval" -> "Pending approval" */
export function humanize(code: string): string {
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** Axis ticks: 3000 -> "3K", 1500000 -> "1.5M". */
export const formatCompact = (value: number) => compactFormat.format(value);

/** What one credit costs in a package: "$0.018 per credit" (money is a decimal string). */
export function formatPricePerCredit(price: string, credits: number, currency = 'USD'): string {
  if (!credits) return '—';
  const perCredit = Number(price) / credits;
  try {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumSignificantDigits: 3 });
    return `${format.format(perCredit)} per credit`;
  } catch {
    return `${perCredit.toPrecision(3)} ${currency} per credit`;
  }
}

/** "in 3 days", "tomorrow", "in 2 hours": for expiries and next grants. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const diffMs = new Date(iso).getTime() - now;
  const rtf = new Intl.RelativeTimeFormat('en-US', { numeric: 'auto' });
  const hours = diffMs / 3_600_000;
  if (Math.abs(hours) < 24) return rtf.format(Math.round(hours), 'hour');
  return rtf.format(Math.round(hours / 24), 'day');
}
