import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { account } from '../test/fixtures';
import { fail, never, ok } from '../test/http';
import { renderApp } from '../test/render';

describe('AccountSettingsPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/settings', { 'GET account/settings/': never });
    expect(await screen.findByText('Loading account settings…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/settings', { 'GET account/settings/': () => fail(500, 'Boom.') });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load account settings: Boom.');
  });

  it('fills the form, sends only the changed fields and confirms the save', async () => {
    const { user, api } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'PATCH account/settings/': (request) => ok({ ...account, ...(request.body as object) }),
    });

    const city = await screen.findByLabelText('City');
    expect(city).toHaveValue('Springfield');
    expect(screen.getByText(/Starter/)).toBeInTheDocument();
    await user.clear(city);
    await user.type(city, 'Shelbyville');
    await user.clear(screen.getByLabelText('Country'));
    await user.type(screen.getByLabelText('Country'), 'de');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    expect(await screen.findByText('Settings saved.')).toBeInTheDocument();
    expect(api.calls('PATCH account/settings/')[0].body).toEqual({ billing_city: 'Shelbyville', billing_country: 'DE' });
  });

  it("shows the API's field errors next to their fields", async () => {
    const { user } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'PATCH account/settings/': () => fail(400, 'Invalid input.', { billing_country: ['"XX" is not a valid choice.'] }),
    });

    await user.clear(await screen.findByLabelText('Country'));
    await user.type(screen.getByLabelText('Country'), 'xx');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    const message = await screen.findByText('"XX" is not a valid choice.');
    expect(screen.getByLabelText('Country')).toHaveAttribute('aria-describedby', expect.stringContaining(message.closest('ul')!.id));
    expect(screen.getByLabelText('Country')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByText('Settings saved.')).not.toBeInTheDocument();
  });

  it('is read-only for members and viewers', async () => {
    renderApp('/account/settings', { 'GET account/settings/': () => ok(account) }, { role: 'viewer' });

    expect(await screen.findByText('Only owners and admins can change these settings.')).toBeInTheDocument();
    expect(screen.getByLabelText('Account name')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save settings' })).not.toBeInTheDocument();
  });
});
