import { Suspense } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import { canManage } from '../lib/roles';
import { useLogout, useMe } from '../services/auth.api';
import { LowBalanceBanner } from './LowBalanceBanner';

function navFor(mayBuy: boolean) {
  return [
    { to: '/account/billing', label: 'Billing' },
    // Only owners and admins buy; everyone else still sees the prices there.
    { to: '/account/purchase-credits', label: mayBuy ? 'Purchase credits' : 'Prices' },
    { to: '/account/usage', label: 'Usage' },
    { to: '/account/team', label: 'Team' },
    { to: '/account/settings', label: 'Settings' },
    { to: '/account/audit-log', label: 'Audit log', managersOnly: true },
    { to: '/account/profile', label: 'Profile' },
  ];
}

export function AppShell() {
  const me = useMe();
  const logout = useLogout();
  const navigate = useNavigate();

  const signOut = () => logout.mutate(undefined, { onSettled: () => navigate('/login', { replace: true }) });

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">creditdesk</span>
          <span className="account-name">
            {me.data?.account.name}
          </span>
          <button type="button" className="button secondary small" onClick={signOut} disabled={logout.isPending}>
            Sign out
          </button>
        </div>
        <nav className="mainnav" aria-label="Main">
          {navFor(canManage(me.data?.user.role))
            .filter((item) => !item.managersOnly || canManage(me.data?.user.role))
            .map((item) => (
            <NavLink key={item.to} to={item.to}>
              {item.label}
            </NavLink>
          ))}
        </nav>
      </header>
      <main id="main" className="content" tabIndex={-1}>
        <LowBalanceBanner />
        <Suspense
          fallback={
            <p className="state state-loading" role="status">
              Loading page…
            </p>
          }
        >
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
