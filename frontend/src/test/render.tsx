import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { App } from '../App';
import { tokenStore } from '../services/tokens';
import type { Role } from '../services/types';
import { session } from './fixtures';
import { mockApi, ok, type Routes } from './http';

export function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{`${location.pathname}${location.search}`}</output>;
}

interface RenderAppOptions {
  /** The signed-in user's role; null renders signed out. */
  role?: Role | null;
}

/** The whole app at `path` with a fresh QueryClient (no retries) and fetch answered by `routes`. */
export function renderApp(path: string, routes: Routes, { role = 'owner' }: RenderAppOptions = {}) {
  if (role) tokenStore.set({ access: 'access-1', refresh: 'refresh-1' });
  const api = mockApi({ 'GET auth/me/': () => ok(session(role ?? 'owner')), ...routes });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const user = userEvent.setup();
  const view = render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]}>
        <App />
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...view, api, user, queryClient };
}
