import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { User } from '../services/types';
import { user } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const owner = user();
const admin = user({ id: 2, email: 'admin@acme.test', first_name: 'Ada', last_name: 'Admin', role: 'admin' });
const invited = user({ id: 3, email: 'new@acme.test', first_name: '', last_name: '', role: 'member', is_active: false });

describe('TeamManagementPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/team', { 'GET account/team/': never });
    expect(await screen.findByText('Loading team members…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/team', { 'GET account/team/': () => fail(500, 'Boom.') });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load team members: Boom.');
  });

  it('shows an empty state', async () => {
    renderApp('/account/team', { 'GET account/team/': () => ok(page([])) });
    expect(await screen.findByText('No team members yet.')).toBeInTheDocument();
  });

  it('lists members with role and status, and lets the owner change roles', async () => {
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin, invited])),
      'PATCH account/team/3/': () => ok({ ...invited, role: 'viewer' }),
    });

    const rows = await screen.findAllByRole('row');
    expect(within(rows[1]).getByText('Olive Owner')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Active')).toBeInTheDocument();
    expect(within(rows[1]).queryByRole('combobox')).not.toBeInTheDocument(); // not your own role
    expect(within(rows[3]).getByText('Invited')).toBeInTheDocument();

    const role = screen.getByLabelText('Role of new@acme.test');
    expect(within(role).getAllByRole('option').map((o) => o.textContent)).toEqual(['Owner', 'Admin', 'Member', 'Viewer']);
    await u.selectOptions(role, 'viewer');
    await waitFor(() => expect(api.calls('PATCH account/team/3/')[0]?.body).toEqual({ role: 'viewer' }));
  });

  it('invites a member by email with a role', async () => {
    const members: User[] = [owner];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([...members])),
      'POST account/team/': () => {
        members.push(invited);
        return ok(invited, 201);
      },
    });

    await u.type(await screen.findByLabelText('Email'), 'new@acme.test');
    await u.selectOptions(screen.getByLabelText('Role'), 'member');
    await u.click(screen.getByRole('button', { name: 'Send invite' }));

    expect(await screen.findByText('Invitation sent to new@acme.test.')).toBeInTheDocument();
    expect(api.calls('POST account/team/')[0].body).toEqual({ email: 'new@acme.test', role: 'member' });
    expect(await screen.findByText('Invited')).toBeInTheDocument();
  });

  it('shows invite field errors', async () => {
    const { user: u } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner])),
      'POST account/team/': () => fail(400, 'Invalid input.', { email: ['This user is already a member.'] }),
    });
    await u.type(await screen.findByLabelText('Email'), 'owner@acme.test');
    await u.click(screen.getByRole('button', { name: 'Send invite' }));
    expect(await screen.findByText('This user is already a member.')).toBeInTheDocument();
  });

  it('removes a member after confirmation, and keeps them on cancel', async () => {
    let members = [owner, admin];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page(members)),
      'DELETE account/team/2/': () => {
        members = [owner];
        return ok(null);
      },
    });

    await u.click(await screen.findByRole('button', { name: 'Remove admin@acme.test' }));
    const dialog = screen.getByRole('dialog', { name: 'Remove team member?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await u.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(api.calls('DELETE account/team/2/')).toHaveLength(0);

    await u.click(screen.getByRole('button', { name: 'Remove admin@acme.test' }));
    await u.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }));

    await waitFor(() => expect(screen.queryByText('admin@acme.test')).not.toBeInTheDocument());
    expect(api.calls('DELETE account/team/2/')).toHaveLength(1);
  });

  it('lets an admin manage only members and viewers, and assign only those roles', async () => {
    renderApp('/account/team', { 'GET account/team/': () => ok(page([owner, admin, invited])) }, { role: 'admin' });

    const role = await screen.findByLabelText('Role of new@acme.test');
    expect(within(role).getAllByRole('option').map((o) => o.textContent)).toEqual(['Member', 'Viewer']);
    expect(screen.queryByRole('button', { name: 'Remove owner@acme.test' })).not.toBeInTheDocument();
    expect(within(screen.getByLabelText('Role')).getAllByRole('option').map((o) => o.textContent)).toEqual(['Member', 'Viewer']);
  });

  it('hides every management control from members', async () => {
    renderApp('/account/team', { 'GET account/team/': () => ok(page([owner, admin, invited])) }, { role: 'member' });

    expect(await screen.findByText('Ada Admin')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Invite a team member' })).not.toBeInTheDocument();
    expect(screen.queryByRole('combobox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Remove/ })).not.toBeInTheDocument();
  });
});
