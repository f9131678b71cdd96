import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useIsSignedIn } from '../services/auth.api';

/** Sends signed-out users to /login, remembering where they were going. */
export function RequireAuth() {
  const signedIn = useIsSignedIn();
  const location = useLocation();
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location }} />;
  return <Outlet />;
}
