import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { TeamMember, User } from '../services/types';
import { user } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const owner = user();
const admin = user({ id: 2, email: 'admin@acme.test', first_name: 'Ada', last_name: 'Admin', role: 'admin' });
const invited: TeamMember = {
  ...user({ id: 3, email: 'new@acme.test', first_name: '', last_name: '', role: 'member', is_active: false }),
  invitation: { id: 31, created_at: '2026-11-28T10:00:00Z', expires_at: '2026-12-05T10:00:00Z', invited_by: 'owner@acme.test' },
};

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

  it('lists members with role, status, the invitation dates and the seats used', async () => {
    renderApp('/account/team', { 'GET account/team/': () => ok(page([owner, admin, invited])) });

    const rows = await screen.findAllByRole('row');
    expect(within(rows[1]).getByText('Olive Owner')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Active')).toBeInTheDocument();
    expect(within(rows[1]).queryByRole('combobox')).not.toBeInTheDocument(); // not your own role
    expect(within(rows[3]).getByText('Invited')).toBeInTheDocument();
    expect(within(rows[3]).getByText('Invited Nov 28, 2026 by owner@acme.test, expires Dec 5, 2026')).toBeInTheDocument();
    expect(screen.getByLabelText('Seats')).toHaveTextContent('3 of 5 seats used on the Starter plan.');
  });

  it('says when every seat is taken', async () => {
    const five = [owner, admin, invited, user({ id: 4, email: 'd@acme.test' }), user({ id: 5, email: 'e@acme.test' })];
    renderApp('/account/team', { 'GET account/team/': () => ok(page(five)) });
    expect(await screen.findByLabelText('Seats')).toHaveTextContent('5 of 5 seats used on the Starter plan. Every seat is taken');
  });

  it('changes a role only after confirmation, and says it is done', async () => {
    let members = [owner, admin, invited];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page(members)),
      'PATCH account/team/2/': (request) => {
        members = [owner, { ...admin, role: (request.body as { role: User['role'] }).role }, invited];
        return ok(members[1]);
      },
    });

    const role = await screen.findByLabelText('Role of admin@acme.test');
    expect(within(role).getAllByRole('option').map((o) => o.textContent)).toEqual(['Owner', 'Admin', 'Member', 'Viewer']);
    await u.selectOptions(role, 'owner');
    const dialogElement = screen.getByRole('dialog', { name: 'Make admin@acme.test an owner?' });
    const dialog = within(dialogElement);
    expect(dialogElement).toHaveTextContent('Admin → Owner. Owners can do everything');
    expect(dialog.getByText('They will be able to remove you and every other owner.')).toBeInTheDocument();
    expect(api.calls('PATCH account/team/2/')).toHaveLength(0);
    await u.click(dialog.getByRole('button', { name: 'Cancel' }));
    expect(api.calls('PATCH account/team/2/')).toHaveLength(0);
    expect(screen.getByLabelText('Role of admin@acme.test')).toHaveValue('admin');

    await u.selectOptions(screen.getByLabelText('Role of admin@acme.test'), 'viewer');
    await u.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change to Viewer' }));
    expect(await screen.findByText('admin@acme.test is now a viewer.')).toHaveAttribute('role', 'status');
    expect(api.calls('PATCH account/team/2/')[0].body).toEqual({ role: 'viewer' });
    await waitFor(() => expect(screen.getByLabelText('Role of admin@acme.test')).toHaveValue('viewer'));
  });

  it('resends and revokes a pending invitation', async () => {
    let members = [owner, invited];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page(members)),
      'POST account/invitations/31/resend/': () => ok(invited.invitation),
      'DELETE account/invitations/31/': () => {
        members = [owner];
        return ok(null);
      },
    });

    await u.click(await screen.findByRole('button', { name: 'Resend the invitation to new@acme.test' }));
    expect(await screen.findByText('The invitation to new@acme.test was sent again.')).toBeInTheDocument();
    expect(api.calls('POST account/invitations/31/resend/')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Remove new@acme.test' })).not.toBeInTheDocument();

    await u.click(screen.getByRole('button', { name: 'Revoke the invitation to new@acme.test' }));
    await u.click(within(screen.getByRole('dialog', { name: 'Revoke invitation?' })).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(screen.queryByText('new@acme.test')).not.toBeInTheDocument());
    expect(api.calls('DELETE account/invitations/31/')).toHaveLength(1);
    expect(screen.getByText('The invitation to new@acme.test was revoked.')).toBeInTheDocument();
  });

  it('shows the error of a refused role change', async () => {
    const { user: u } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin])),
      'PATCH account/team/2/': () => fail(400, "The account's last owner cannot be removed or demoted."),
    });
    await u.selectOptions(await screen.findByLabelText('Role of admin@acme.test'), 'member');
    await u.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change to Member' }));
    expect(await screen.findByRole('alert')).toHaveTextContent("The account's last owner cannot be removed or demoted.");
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

    await waitFor(() => expect(screen.queryByText('Ada Admin')).not.toBeInTheDocument());
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
