import { useLocation, useNavigate, type Location } from 'react-router-dom';

/** Where RequireAuth was sending the user before it redirected to /login, else the billing page. */
export function useAfterSignIn() {
  const location = useLocation();
  const navigate = useNavigate();
  const from = (location.state as { from?: Location } | null)?.from;
  const target = from ? `${from.pathname}${from.search}${from.hash}` : '/account/billing';
  return {
    state: location.state,
    go: () => navigate(target, { replace: true }),
  };
}
