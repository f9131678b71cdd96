import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { tokenStore } from '../services/tokens';
import { balance, session } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const lookup = {
  account_name: 'Acme Research',
  invited_by: 'Olive Owner',
  email: 'nia@acme.test',
  role: 'member',
  expires_at: '2026-12-09T10:00:00Z',
};

describe('accepting an invitation', () => {
  it('names the account, the inviter, the email and the role before asking for a password', async () => {
    const { api } = renderApp('/accept-invitation?token=tok-123', {
      'GET auth/invitations/lookup/': () => ok(lookup),
    }, { role: null });

    expect(await screen.findByRole('heading', { name: 'Join Acme Research' })).toBeInTheDocument();
    expect(screen.getByText(/invited you to/)).toHaveTextContent('Olive Owner invited you to Acme Research on creditdesk as member.');
    expect(screen.getByText('Your sign-in email').nextSibling).toHaveTextContent('nia@acme.test');
    expect(screen.getByText('Link valid until').nextSibling).toHaveTextContent('Dec 9, 2026');
    expect(api.calls('GET auth/invitations/lookup/')[0].url.searchParams.get('token')).toBe('tok-123');
    expect(api.calls('GET auth/invitations/lookup/')[0].headers.get('Authorization')).toBeNull();
  });

  it('sets the password, signs the new member in and lands on billing', async () => {
    const { user: u, api } = renderApp('/accept-invitation?token=tok-123', {
      'GET auth/invitations/lookup/': () => ok(lookup),
      'POST auth/invitations/accept/': () => ok({ ...session('member'), access: 'a-2', refresh: 'r-2' }),
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    }, { role: null });

    await u.type(await screen.findByLabelText('First name'), 'Nia');
    await u.type(screen.getByLabelText('Choose a password'), 'a-long-passphrase-9');
    await u.click(screen.getByRole('button', { name: 'Join Acme Research' }));

    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/account/billing'));
    expect(api.calls('POST auth/invitations/accept/')[0].body).toEqual({
      token: 'tok-123', first_name: 'Nia', last_name: '', password: 'a-long-passphrase-9',
    });
    expect(tokenStore.get()).toEqual({ access: 'a-2', refresh: 'r-2' });
  });

  it('says a bad, used or expired link is dead without showing the form', async () => {
    renderApp('/accept-invitation?token=old', {
      'GET auth/invitations/lookup/': () => fail(404, 'This invitation is invalid, used or expired.'),
    }, { role: null });

    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation is invalid, used or expired.');
    expect(screen.queryByLabelText('Choose a password')).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'sign in' })).toHaveAttribute('href', '/login');
  });

  it('shows a loading state while the invitation is checked', async () => {
    renderApp('/accept-invitation?token=tok', { 'GET auth/invitations/lookup/': never }, { role: null });
    expect(await screen.findByText('Checking your invitation…')).toBeInTheDocument();
    expect(screen.queryByLabelText('Choose a password')).not.toBeInTheDocument();
  });

  it('still reports an invitation that died between the lookup and the submit', async () => {
    const { user: u } = renderApp('/accept-invitation?token=tok', {
      'GET auth/invitations/lookup/': () => ok(lookup),
      'POST auth/invitations/accept/': () =>
        fail(400, 'This invitation is invalid, used or expired.', { token: ['This invitation is invalid, used or expired.'] }),
    }, { role: null });

    await u.type(await screen.findByLabelText('Choose a password'), 'a-long-passphrase-9');
    await u.click(screen.getByRole('button', { name: 'Join Acme Research' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation is invalid, used or expired.');
    expect(tokenStore.get()).toBeNull();
  });

  it('explains an incomplete link instead of showing a form', async () => {
    renderApp('/accept-invitation', {}, { role: null });
    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation link is incomplete');
    expect(screen.queryByLabelText('Choose a password')).not.toBeInTheDocument();
  });
});
