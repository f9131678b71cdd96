import { formatCredits, formatMoney, formatPricePerCredit } from '../lib/format';
import type { CreditPackage } from '../services/types';

interface PackageCardProps {
  pkg: CreditPackage;
  /** False for people who cannot buy: the card then shows the price without a Buy button. */
  mayBuy: boolean;
  disabled: boolean;
  buying: boolean;
  onBuy: () => void;
}

export function PackageCard({ pkg, mayBuy, disabled, buying, onBuy }: PackageCardProps) {
  const headingId = `package-${pkg.id}`;
  return (
    <article className={`package${pkg.is_featured ? ' featured' : ''}`} aria-labelledby={headingId}>
      {/* The badge sits on the border, out of the flow, so every card's contents line up. */}
      {pkg.is_featured && <span className="badge badge-good package-badge">Popular</span>}
      <h3 id={headingId}>{pkg.name}</h3>
      <p className="package-credits">{formatCredits(pkg.credits)} credits</p>
      <p className="package-price">{formatMoney(pkg.price, pkg.currency)}</p>
      <p className="package-unit muted">{formatPricePerCredit(pkg.price, pkg.credits, pkg.currency)}</p>
      {pkg.description && <p className="muted">{pkg.description}</p>}
      {mayBuy && (
        <button type="button" className="button primary wide" disabled={disabled} onClick={onBuy}
          aria-label={`Buy ${pkg.name}`}>
          {buying ? 'Processing…' : 'Buy'}
        </button>
      )}
    </article>
  );
}
