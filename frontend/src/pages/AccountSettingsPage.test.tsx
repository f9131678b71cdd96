import { screen, within } from '@testing-library/react';
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
    expect(screen.getByLabelText('Country')).toHaveValue('US');
    expect(screen.getByRole('option', { name: 'United States' })).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Country'), 'Germany');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    expect(await screen.findByText('Settings saved.')).toBeInTheDocument();
    expect(api.calls('PATCH account/settings/')[0].body).toEqual({ billing_city: 'Shelbyville', billing_country: 'DE' });
  });

  it("shows the API's field errors next to their fields", async () => {
    const { user } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'PATCH account/settings/': () => fail(400, 'Invalid input.', { billing_country: ['"XX" is not a valid choice.'] }),
    });

    await user.selectOptions(await screen.findByLabelText('Country'), 'France');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    const message = await screen.findByText('"XX" is not a valid choice.');
    expect(screen.getByLabelText('Country')).toHaveAttribute('aria-describedby', expect.stringContaining(message.closest('ul')!.id));
    expect(screen.getByLabelText('Country')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByText('Settings saved.')).not.toBeInTheDocument();
  });

  it('names fields as the form does and shows every error, not only the first', async () => {
    const { user } = renderApp('/account/settings', {
      'GET account/settings/': () => ok(account),
      'PATCH account/settings/': () =>
        fail(400, 'Invalid input.', {
          billing_email: ['Enter a valid email address.'],
          billing_postal_code: ['Too long.', 'Letters and digits only.'],
          plan: ['This field cannot be set.'],
        }),
    });
    await user.type(await screen.findByLabelText('City'), 'x');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));

    const details = within(screen.getByRole('region', { name: 'Account and billing details' }));
    const banner = await details.findByRole('alert');
    expect(banner).toHaveTextContent('Invalid input.');
    expect(banner).toHaveTextContent('Plan: This field cannot be set.');
    expect(banner).not.toHaveTextContent('billing_');
    expect(screen.getByText('Enter a valid email address.')).toBeInTheDocument();
    expect(screen.getByText('Too long.')).toBeInTheDocument();
    expect(screen.getByText('Letters and digits only.')).toBeInTheDocument();
  });

  it('stops each field at the length the API accepts', async () => {
    renderApp('/account/settings', { 'GET account/settings/': () => ok(account) });
    expect(await screen.findByLabelText('Account name')).toHaveAttribute('maxLength', '120');
    expect(screen.getByLabelText('Postal code')).toHaveAttribute('maxLength', '32');
    expect(screen.getByLabelText('Tax ID')).toHaveAttribute('maxLength', '64');
    expect(screen.getByLabelText('Billing email')).toHaveAttribute('maxLength', '254');
  });

  it('is read-only for members and viewers', async () => {
    renderApp('/account/settings', { 'GET account/settings/': () => ok(account) }, { role: 'viewer' });

    expect(await screen.findByText('Only owners and admins can change these settings.')).toBeInTheDocument();
    expect(screen.getByLabelText('Account name')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save settings' })).not.toBeInTheDocument();
  });
});
