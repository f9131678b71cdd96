import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../services/apiKeys.api';
import { account } from '../test/fixtures';
import { fail, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const apiKey = (overrides: Partial<ApiKey> = {}): ApiKey => ({
  id: 5,
  name: 'content worker',
  prefix: 'cdk_live_Ab3dE9xQ',
  scopes: ['billing:read', 'usage:write'],
  status: 'active',
  expires_at: null,
  last_used_at: '2026-11-21T08:30:00Z',
  revoked_at: null,
  created_at: '2026-11-20T12:00:00Z',
  created_by: 'owner@acme.test',
  creator_removed: false,
  daily_credit_cap: 500,
  monthly_credit_cap: null,
  spent_today: 120,
  spent_this_month: 900,
  ...overrides,
});

const SECRET = 'cdk_live_Ab3dE9xQsecretpart0123456789abcdefghijklmno';

describe('ApiKeysSection on the settings page', () => {
  it('lists the keys with prefix, caps and who made them, never a secret', async () => {
    renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'GET account/api-keys/': () =>
        ok(page([apiKey(), apiKey({ id: 6, name: 'old', status: 'revoked', creator_removed: true, daily_credit_cap: null })])),
    });
    const table = await screen.findByRole('table', { name: 'API keys' });
    const rows = within(table).getAllByRole('row');
    expect(within(rows[1]).getByText('content worker')).toBeInTheDocument();
    expect(within(rows[1]).getByText('cdk_live_Ab3dE9xQ…')).toBeInTheDocument();
    expect(within(rows[1]).getByText('120 / 500 today')).toBeInTheDocument();
    expect(within(rows[2]).getByText('no longer a member; the key still works')).toBeInTheDocument();
    expect(within(rows[2]).queryByRole('button', { name: 'Revoke old' })).not.toBeInTheDocument();
    expect(screen.queryByTestId('new-api-key')).not.toBeInTheDocument();
  });

  it('creates a key and shows its secret once', async () => {
    const { user, api } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'GET account/api-keys/': () => ok(page([])),
      'POST account/api-keys/': () => ok({ ...apiKey(), key: SECRET }, 201),
    });
    expect(await screen.findByText('No API keys yet.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Key name'), 'content worker');
    await user.click(screen.getByLabelText(/billing:read/));
    await user.type(screen.getByLabelText('Daily credit cap (optional)'), '500');
    await user.click(screen.getByRole('button', { name: 'Create key' }));

    expect(await screen.findByTestId('new-api-key')).toHaveTextContent(SECRET);
    expect(screen.getByText(/it will not be shown again/)).toBeInTheDocument();
    expect(api.calls('POST account/api-keys/')[0].body).toEqual({
      name: 'content worker',
      scopes: ['usage:write'],
      expires_at: null,
      daily_credit_cap: 500,
      monthly_credit_cap: null,
    });
    await user.click(screen.getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByText(SECRET)).not.toBeInTheDocument();
  });

  it("shows the API's field errors", async () => {
    const { user } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'GET account/api-keys/': () => ok(page([])),
      'POST account/api-keys/': () => fail(400, 'name: This field may not be blank.', { name: ['This field may not be blank.'] }),
    });
    await user.click(await screen.findByRole('button', { name: 'Create key' }));
    expect(await screen.findByText('This field may not be blank.')).toBeInTheDocument();
    expect(screen.getByLabelText('Key name')).toHaveAttribute('aria-invalid', 'true');
  });

  it('revokes a key after confirmation', async () => {
    let revoked = false;
    const { user, api } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'GET account/api-keys/': () => ok(page([apiKey(revoked ? { status: 'revoked' } : {})])),
      'DELETE account/api-keys/5/': () => {
        revoked = true;
        return ok(apiKey({ status: 'revoked' }));
      },
    });
    await user.click(await screen.findByRole('button', { name: 'Revoke content worker' }));
    const dialog = screen.getByRole('dialog', { name: 'Revoke API key?' });
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(api.calls('DELETE account/api-keys/5/')).toHaveLength(1));
    expect(await screen.findByText('Revoked')).toBeInTheDocument();
  });

  it('renames a key and changes its caps', async () => {
    const { user, api } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'GET account/api-keys/': () => ok(page([apiKey()])),
      'PATCH account/api-keys/5/': (request) => ok({ ...apiKey(), ...(request.body as object) }),
    });
    await user.click(await screen.findByRole('button', { name: 'Edit content worker' }));
    const form = screen.getByRole('form', { name: 'Edit content worker' });
    const name = within(form).getByLabelText('Key name');
    await user.clear(name);
    await user.type(name, 'image worker');
    await user.clear(within(form).getByLabelText('Daily credit cap'));
    await user.type(within(form).getByLabelText('Monthly credit cap'), '9000');
    await user.click(within(form).getByRole('button', { name: 'Save key' }));
    await waitFor(() => expect(api.calls('PATCH account/api-keys/5/')).toHaveLength(1));
    expect(api.calls('PATCH account/api-keys/5/')[0].body).toEqual({
      name: 'image worker',
      daily_credit_cap: null,
      monthly_credit_cap: 9000,
    });
  });

  it('is not shown to members and viewers, and asks nothing of the API', async () => {
    const { api } = renderApp('/account/settings', { 'GET account/settings/': () => ok(account) }, { role: 'member' });
    expect(await screen.findByLabelText('Account name')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'API keys' })).not.toBeInTheDocument();
    expect(api.calls('GET account/api-keys/')).toHaveLength(0);
  });
});
