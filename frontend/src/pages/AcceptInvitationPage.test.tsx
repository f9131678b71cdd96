import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { tokenStore } from '../services/tokens';
import { balance, session } from '../test/fixtures';
import { fail, ok, page } from '../test/http';
import { renderApp } from '../test/render';

describe('accepting an invitation', () => {
  it('sets the password, signs the new member in and lands on billing', async () => {
    const { user: u, api } = renderApp('/accept-invitation?token=tok-123', {
      'POST auth/invitations/accept/': () => ok({ ...session('member'), access: 'a-2', refresh: 'r-2' }),
      'GET billing/credits/balance/balance/': () => ok(balance),
      'GET billing/invoices/': () => ok(page([])),
      'GET billing/payments/': () => ok(page([])),
    }, { role: null });

    await u.type(await screen.findByLabelText('First name'), 'Nia');
    await u.type(screen.getByLabelText('Password'), 'a-long-passphrase-9');
    await u.click(screen.getByRole('button', { name: 'Join the team' }));

    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/account/billing'));
    expect(api.calls('POST auth/invitations/accept/')[0].body).toEqual({
      token: 'tok-123', first_name: 'Nia', last_name: '', password: 'a-long-passphrase-9',
    });
    expect(tokenStore.get()).toEqual({ access: 'a-2', refresh: 'r-2' });
  });

  it('says so when the invitation is used or expired', async () => {
    const { user: u } = renderApp('/accept-invitation?token=old', {
      'POST auth/invitations/accept/': () =>
        fail(400, 'This invitation is invalid, used or expired.', { token: ['This invitation is invalid, used or expired.'] }),
    }, { role: null });

    await u.type(await screen.findByLabelText('Password'), 'a-long-passphrase-9');
    await u.click(screen.getByRole('button', { name: 'Join the team' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation is invalid, used or expired.');
    expect(tokenStore.get()).toBeNull();
  });

  it('explains an incomplete link instead of showing a form', async () => {
    renderApp('/accept-invitation', {}, { role: null });
    expect(await screen.findByRole('alert')).toHaveTextContent('This invitation link is incomplete');
    expect(screen.queryByLabelText('Password')).not.toBeInTheDocument();
  });
});
