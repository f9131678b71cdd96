import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { tokenStore } from '../services/tokens';
import { session } from '../test/fixtures';
import { fail, ok } from '../test/http';
import { renderApp } from '../test/render';

const SENT = 'If the address has an account, a reset link is on its way.';

describe('forgot password', () => {
  it('is linked from sign-in and shows the same neutral answer for any address', async () => {
    const { user: u, api } = renderApp('/login', {
      'POST auth/password/reset/': () => ok({ detail: SENT }),
    }, { role: null });

    await u.click(await screen.findByRole('link', { name: 'Forgot your password?' }));
    await screen.findByRole('heading', { name: 'Reset your password' });
    await u.type(screen.getByLabelText('Email'), 'someone@example.com');
    await u.click(await screen.findByRole('button', { name: 'Send a reset link' }));

    expect(await screen.findByText(SENT, { exact: false })).toHaveAttribute('role', 'status');
    expect(api.calls('POST auth/password/reset/')[0].body).toEqual({ email: 'someone@example.com' });
  });
});

describe('reset password', () => {
  it('sends uid, token and the new password from the mailed link', async () => {
    const { user: u, api } = renderApp('/reset-password?uid=MQ&token=abc-123', {
      'POST auth/password/reset/confirm/': () => ok({ detail: 'Your password is set: sign in with it.' }),
    }, { role: null });

    await u.type(await screen.findByLabelText('New password'), 'a-brand-new-passphrase-7');
    await u.click(screen.getByRole('button', { name: 'Set the password' }));

    expect(await screen.findByText(/every other session has ended/)).toHaveAttribute('role', 'status');
    expect(api.calls('POST auth/password/reset/confirm/')[0].body).toEqual({
      uid: 'MQ', token: 'abc-123', password: 'a-brand-new-passphrase-7',
    });
  });

  it('says a used or expired link is refused and offers a new one', async () => {
    const message = 'This reset link is invalid, used or expired.';
    const { user: u } = renderApp('/reset-password?uid=MQ&token=old', {
      'POST auth/password/reset/confirm/': () => fail(400, message, { token: [message] }),
    }, { role: null });

    await u.type(await screen.findByLabelText('New password'), 'a-brand-new-passphrase-7');
    await u.click(screen.getByRole('button', { name: 'Set the password' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(message);
    expect(screen.getByRole('link', { name: 'Ask for a new link' })).toHaveAttribute('href', '/forgot-password');
  });

  it('explains an incomplete link instead of showing a form', async () => {
    renderApp('/reset-password?uid=MQ', {}, { role: null });
    expect(await screen.findByRole('alert')).toHaveTextContent('This reset link is incomplete');
    expect(screen.queryByLabelText('New password')).not.toBeInTheDocument();
  });
});

describe('change password', () => {
  it('keeps this session with the new tokens the answer carries', async () => {
    const { user: u, api } = renderApp('/account/password', {
      'POST auth/password/change/': () => ok({ ...session('owner'), access: 'a-2', refresh: 'r-2' }),
    });

    await u.type(await screen.findByLabelText('Current password'), 'old-passphrase-1');
    await u.type(screen.getByLabelText('New password'), 'a-brand-new-passphrase-7');
    await u.click(screen.getByRole('button', { name: 'Change password' }));

    expect(await screen.findByText(/Every other session has been signed out/)).toHaveAttribute('role', 'status');
    expect(api.calls('POST auth/password/change/')[0].body).toEqual({
      current_password: 'old-passphrase-1', new_password: 'a-brand-new-passphrase-7',
    });
    expect(tokenStore.get()).toEqual({ access: 'a-2', refresh: 'r-2' });
  });

  it('shows a wrong current password next to its field and keeps the tokens', async () => {
    const { user: u } = renderApp('/account/password', {
      'POST auth/password/change/': () =>
        fail(400, 'The current password is not correct.', { current_password: ['The current password is not correct.'] }),
    });

    await u.type(await screen.findByLabelText('Current password'), 'wrong');
    await u.type(screen.getByLabelText('New password'), 'a-brand-new-passphrase-7');
    await u.click(screen.getByRole('button', { name: 'Change password' }));

    await waitFor(() => expect(screen.getByLabelText('Current password')).toHaveAttribute('aria-invalid', 'true'));
    expect(tokenStore.get()).toEqual({ access: 'access-1', refresh: 'refresh-1' });
  });
});
