import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { session } from '../test/fixtures';
import { fail, ok } from '../test/http';
import { renderApp } from '../test/render';

describe('profile', () => {
  it('is in the main navigation and saves the first and last name', async () => {
    const base = session('member');
    const { user: u, api } = renderApp('/account/billing', {
      'PATCH auth/me/': ({ body }) => ok({ ...base, user: { ...base.user, ...(body as object) } }),
      'GET billing/credits/balance/balance/': () => ok({}),
    }, { role: 'member' });

    await u.click(await screen.findByRole('link', { name: 'Profile' }));
    const first = await screen.findByLabelText('First name');
    await u.clear(first);
    await u.type(first, 'Grace');
    await u.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('Saved.')).toHaveAttribute('role', 'status');
    expect(api.calls('PATCH auth/me/')[0].body).toEqual({ first_name: 'Grace', last_name: base.user.last_name });
    expect(screen.getByRole('link', { name: 'Change your password' })).toHaveAttribute('href', '/account/password');
  });

  it('shows a refused name next to its field', async () => {
    const message = 'Control characters such as line breaks are not allowed.';
    const { user: u } = renderApp('/account/profile', {
      'PATCH auth/me/': () => fail(400, `last_name: ${message}`, { last_name: [message] }),
    });

    await u.click(await screen.findByRole('button', { name: 'Save' }));
    expect(await screen.findByText(message)).toBeInTheDocument();
  });
});
