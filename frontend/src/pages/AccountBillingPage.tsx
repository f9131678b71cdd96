import { Link } from 'react-router-dom';
import { BalanceCard } from '../components/BalanceCard';
import { InvoicesTable } from '../components/InvoicesTable';
import { PaymentsTable } from '../components/PaymentsTable';
import { PendingTransfers } from '../components/PendingTransfers';

export default function AccountBillingPage() {
  return (
    <>
      <h1>Billing</h1>
      <PendingTransfers />
      <BalanceCard />
      <nav className="link-row" aria-label="Credit history">
        <Link to="/account/transactions">Credit transactions</Link>
        <Link to="/account/usage-logs">Usage logs</Link>
        <Link to="/account/purchase-credits">Prices</Link>
      </nav>
      <InvoicesTable />
      <PaymentsTable />
    </>
  );
}
