import { formatCredits, formatMoney } from '../lib/format';
import type { CreditPackage } from '../services/types';

interface PackageCardProps {
  pkg: CreditPackage;
  disabled: boolean;
  buying: boolean;
  onBuy: () => void;
}

export function PackageCard({ pkg, disabled, buying, onBuy }: PackageCardProps) {
  const headingId = `package-${pkg.id}`;
  return (
    <article className={`package${pkg.is_featured ? ' featured' : ''}`} aria-labelledby={headingId}>
      {pkg.is_featured && <span className="badge badge-good">Popular</span>}
      <h3 id={headingId}>{pkg.name}</h3>
      <p className="package-credits">{formatCredits(pkg.credits)} credits</p>
      <p className="package-price">{formatMoney(pkg.price, pkg.currency)}</p>
      {pkg.description && <p className="muted">{pkg.description}</p>}
      <button type="button" className="button primary wide" disabled={disabled} onClick={onBuy}
        aria-label={`Buy ${pkg.name}`}>
        {buying ? 'Processing…' : 'Buy'}
      </button>
    </article>
  );
}
