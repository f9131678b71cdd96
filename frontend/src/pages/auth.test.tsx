import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { tokenStore } from '../services/tokens';
import { account, balance, session, user } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const billingRoutes = {
  'GET billing/credits/balance/balance/': () => ok(balance),
  'GET billing/invoices/': () => ok(page([])),
  'GET billing/payments/': () => ok(page([])),
};

describe('signing in', () => {
  it('sends a signed-out visitor to /login and back to the page they asked for', async () => {
    const { user: u, api } = renderApp('/account/team', {
      'POST auth/login/': () => ok({ ...session(), access: 'access-9', refresh: 'refresh-9' }),
      'GET account/team/': () => ok(page([user()])),
    }, { role: null });

    await u.type(await screen.findByLabelText('Email'), 'owner@acme.test');
    await u.type(screen.getByLabelText('Password'), 'correct horse');
    await u.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Team' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/account/team');
    expect(api.calls('POST auth/login/')[0].body).toEqual({ email: 'owner@acme.test', password: 'correct horse' });
    expect(tokenStore.get()).toEqual({ access: 'access-9', refresh: 'refresh-9' });
  });

  it('shows the error of a failed sign-in', async () => {
    const { user: u } = renderApp('/login', { 'POST auth/login/': () => fail(401, 'Invalid email or password.') }, { role: null });

    await u.type(await screen.findByLabelText('Email'), 'owner@acme.test');
    await u.type(screen.getByLabelText('Password'), 'wrong');
    await u.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password.');
    expect(tokenStore.get()).toBeNull();
  });

  it('registers an account and shows field errors next to their fields', async () => {
    let attempts = 0;
    const { user: u, api } = renderApp('/register', {
      'POST auth/register/': () =>
        ++attempts === 1
          ? fail(400, 'Invalid input.', { password: ['This password is too short.'] })
          : ok({ ...session(), access: 'a', refresh: 'r' }, 201),
      ...billingRoutes,
    }, { role: null });

    await u.type(await screen.findByLabelText('Account name'), 'Acme Research');
    await u.type(screen.getByLabelText('Email'), 'owner@acme.test');
    await u.type(screen.getByLabelText('Password'), 'short');
    await u.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByText('This password is too short.')).toBeInTheDocument();
    expect(screen.getByLabelText('Password')).toHaveAttribute('aria-invalid', 'true');

    await u.type(screen.getByLabelText('Password'), ' but longer now');
    await u.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByRole('heading', { name: 'Billing' })).toBeInTheDocument();
    expect(api.calls('POST auth/register/')[1].body).toEqual({
      account_name: 'Acme Research', email: 'owner@acme.test', password: 'short but longer now',
    });
  });

  it('shows the account name and signs out through the API', async () => {
    const { user: u, api } = renderApp('/account/billing', { ...billingRoutes, 'POST auth/logout/': () => ok(null) });

    expect(await screen.findByText(account.name)).toBeInTheDocument();
    await u.click(screen.getByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    expect(api.calls('POST auth/logout/')[0].body).toEqual({ refresh: 'refresh-1' });
    expect(tokenStore.get()).toBeNull();
  });

  it('sends the user to /login when the session cannot be refreshed', async () => {
    renderApp('/account/billing', {
      'GET auth/me/': () => fail(401, 'Token expired.'),
      'GET billing/credits/balance/balance/': () => fail(401, 'Token expired.'),
      'GET billing/invoices/': never,
      'GET billing/payments/': never,
      'POST auth/refresh/': () => fail(401, 'Token is blacklisted.'),
    });

    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();
    await waitFor(() => expect(tokenStore.get()).toBeNull());
  });

  it('redirects / to the billing page', async () => {
    renderApp('/', billingRoutes);
    expect(await screen.findByRole('heading', { name: 'Billing' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/account/billing');
  });
});
