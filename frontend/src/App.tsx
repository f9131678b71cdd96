import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { AppShell } from './components/AppShell';
import { RequireAuth } from './components/RequireAuth';

// Each page is its own chunk: Recharts, the heaviest dependency, loads only with the usage page.
const LoginPage = lazy(() => import('./pages/LoginPage'));
const RegisterPage = lazy(() => import('./pages/RegisterPage'));
const AcceptInvitationPage = lazy(() => import('./pages/AcceptInvitationPage'));
const AccountBillingPage = lazy(() => import('./pages/AccountBillingPage'));
const TransactionsPage = lazy(() => import('./pages/TransactionsPage'));
const UsageLogsPage = lazy(() => import('./pages/UsageLogsPage'));
const PurchaseCreditsPage = lazy(() => import('./pages/PurchaseCreditsPage'));
const UsageAnalyticsPage = lazy(() => import('./pages/UsageAnalyticsPage'));
const TeamManagementPage = lazy(() => import('./pages/TeamManagementPage'));
const AccountSettingsPage = lazy(() => import('./pages/AccountSettingsPage'));
const AuditLogPage = lazy(() => import('./pages/AuditLogPage'));
const ProfilePage = lazy(() => import('./pages/ProfilePage'));
const ChangePasswordPage = lazy(() => import('./pages/ChangePasswordPage'));
const ForgotPasswordPage = lazy(() => import('./pages/ForgotPasswordPage'));
const ResetPasswordPage = lazy(() => import('./pages/ResetPasswordPage'));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'));

export function App() {
  return (
    <Suspense
      fallback={
        <p className="state state-loading" role="status">
          Loading…
        </p>
      }
    >
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/register" element={<RegisterPage />} />
        <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
        <Route path="/forgot-password" element={<ForgotPasswordPage />} />
        <Route path="/reset-password" element={<ResetPasswordPage />} />
        <Route element={<RequireAuth />}>
          <Route element={<AppShell />}>
            <Route index element={<Navigate to="/account/billing" replace />} />
            <Route path="/account" element={<Navigate to="/account/billing" replace />} />
            <Route path="/account/billing" element={<AccountBillingPage />} />
            <Route path="/account/transactions" element={<TransactionsPage />} />
            <Route path="/account/usage-logs" element={<UsageLogsPage />} />
            <Route path="/account/purchase-credits" element={<PurchaseCreditsPage />} />
            <Route path="/account/usage" element={<UsageAnalyticsPage />} />
            <Route path="/account/team" element={<TeamManagementPage />} />
            <Route path="/account/settings" element={<AccountSettingsPage />} />
            <Route path="/account/audit-log" element={<AuditLogPage />} />
            <Route path="/account/profile" element={<ProfilePage />} />
            <Route path="/account/password" element={<ChangePasswordPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Route>
      </Routes>
    </Suspense>
  );
}
