import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Invitation, User } from '../services/types';
import { user } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const owner = user();
const admin = user({ id: 2, email: 'admin@acme.test', first_name: 'Ada', last_name: 'Admin', role: 'admin' });
const member = user({ id: 3, email: 'mia@acme.test', first_name: 'Mia', last_name: 'Member', role: 'member' });
const invitation = (overrides: Partial<Invitation> = {}): Invitation => ({
  id: 31,
  email: 'new@acme.test',
  role: 'member',
  status: 'pending',
  invited_by_email: 'owner@acme.test',
  created_at: '2026-11-28T10:00:00Z',
  expires_at: '2026-12-05T10:00:00Z',
  ...overrides,
});
const noInvitations = { 'GET account/invitations/': () => ok(page([])) };

describe('TeamManagementPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/team', { 'GET account/team/': never, ...noInvitations });
    expect(await screen.findByText('Loading team members…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/team', { 'GET account/team/': () => fail(500, 'Boom.'), ...noInvitations });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load team members: Boom.');
  });

  it('shows empty states', async () => {
    renderApp('/account/team', { 'GET account/team/': () => ok(page([])), ...noInvitations });
    expect(await screen.findByText('No team members yet.')).toBeInTheDocument();
    expect(await screen.findByText('No pending invitations.')).toBeInTheDocument();
  });

  it('lists members, pending invitations with their dates, and the seats they take', async () => {
    renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin, member])),
      'GET account/invitations/': () =>
        ok(page([invitation(), invitation({ id: 32, email: 'old@acme.test', status: 'expired' })])),
    });

    const rows = await screen.findAllByRole('row');
    expect(within(rows[1]).getByText('Olive Owner')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Active')).toBeInTheDocument();
    expect(within(rows[1]).queryByRole('combobox')).not.toBeInTheDocument(); // not your own role

    const pending = within(screen.getByRole('region', { name: 'Pending invitations' }));
    const fresh = within(await pending.findByRole('row', { name: /new@acme.test/ }));
    expect(fresh.getByText('Nov 28, 2026')).toBeInTheDocument();
    expect(fresh.getByText('by owner@acme.test')).toBeInTheDocument();
    expect(fresh.getByText('Dec 5, 2026')).toBeInTheDocument();
    expect(within(pending.getByRole('row', { name: /old@acme.test/ })).getByText('Expired')).toBeInTheDocument();
    // 3 members and 1 unexpired invitation, as the API counts seats.
    expect(screen.getByLabelText('Seats')).toHaveTextContent('4 of 5 seats used on the Starter plan.');
  });

  it('says when every seat is taken', async () => {
    renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin, member, user({ id: 4, email: 'd@acme.test' })])),
      'GET account/invitations/': () => ok(page([invitation()])),
    });
    expect(await screen.findByLabelText('Seats')).toHaveTextContent('5 of 5 seats used on the Starter plan. Every seat is taken');
  });

  it('changes a role only after confirmation, and says it is done', async () => {
    let members = [owner, admin, member];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page(members)),
      ...noInvitations,
      'PATCH account/team/2/': (request) => {
        members = [owner, { ...admin, role: (request.body as { role: User['role'] }).role }, member];
        return ok(members[1]);
      },
    });

    const role = await screen.findByLabelText('Role of admin@acme.test');
    expect(within(role).getAllByRole('option').map((o) => o.textContent)).toEqual(['Owner', 'Admin', 'Member', 'Viewer']);
    await u.selectOptions(role, 'owner');
    const dialogElement = screen.getByRole('dialog', { name: 'Make admin@acme.test an owner?' });
    expect(dialogElement).toHaveTextContent('Admin → Owner. Owners can do everything');
    expect(dialogElement).toHaveTextContent('They will be able to remove you and every other owner.');
    await u.click(within(dialogElement).getByRole('button', { name: 'Cancel' }));
    expect(api.calls('PATCH account/team/2/')).toHaveLength(0);
    expect(screen.getByLabelText('Role of admin@acme.test')).toHaveValue('admin');

    await u.selectOptions(screen.getByLabelText('Role of admin@acme.test'), 'viewer');
    await u.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change to Viewer' }));
    expect(await screen.findByText('admin@acme.test is now a viewer.')).toHaveAttribute('role', 'status');
    expect(api.calls('PATCH account/team/2/')[0].body).toEqual({ role: 'viewer' });
    await waitFor(() => expect(screen.getByLabelText('Role of admin@acme.test')).toHaveValue('viewer'));
  });

  it('shows the error of a refused role change', async () => {
    const { user: u } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin])),
      ...noInvitations,
      'PATCH account/team/2/': () => fail(400, "The account's last owner cannot be removed or demoted."),
    });
    await u.selectOptions(await screen.findByLabelText('Role of admin@acme.test'), 'member');
    await u.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Change to Member' }));
    expect(await screen.findByRole('alert')).toHaveTextContent("The account's last owner cannot be removed or demoted.");
  });

  it('resends and revokes a pending invitation', async () => {
    let invitations = [invitation()];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner])),
      'GET account/invitations/': () => ok(page(invitations)),
      'POST account/invitations/31/resend/': () => ok(invitation()),
      'DELETE account/invitations/31/': () => {
        invitations = [];
        return ok(null);
      },
    });

    await u.click(await screen.findByRole('button', { name: 'Resend the invitation to new@acme.test' }));
    expect(await screen.findByText('The invitation to new@acme.test was sent again.')).toBeInTheDocument();
    expect(api.calls('POST account/invitations/31/resend/')).toHaveLength(1);

    await u.click(screen.getByRole('button', { name: 'Revoke the invitation to new@acme.test' }));
    await u.click(within(screen.getByRole('dialog', { name: 'Revoke invitation?' })).getByRole('button', { name: 'Revoke' }));
    expect(await screen.findByText('No pending invitations.')).toBeInTheDocument();
    expect(api.calls('DELETE account/invitations/31/')).toHaveLength(1);
    expect(screen.getByText('The invitation to new@acme.test was revoked.')).toBeInTheDocument();
  });

  it('invites by email with a role and lists the invitation', async () => {
    const invitations: Invitation[] = [];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner])),
      'GET account/invitations/': () => ok(page([...invitations])),
      'POST account/team/': () => {
        invitations.push(invitation());
        return ok(invitation(), 201);
      },
    });

    await u.type(await screen.findByLabelText('Email'), 'new@acme.test');
    await u.selectOptions(screen.getByLabelText('Role'), 'member');
    await u.click(screen.getByRole('button', { name: 'Send invite' }));

    expect(await screen.findByText('Invitation sent to new@acme.test.')).toBeInTheDocument();
    expect(api.calls('POST account/team/')[0].body).toEqual({ email: 'new@acme.test', role: 'member' });
    const pending = within(screen.getByRole('region', { name: 'Pending invitations' }));
    expect(await pending.findByText('new@acme.test')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('maxLength', '254');
  });

  it('shows invite field errors', async () => {
    const { user: u } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner])),
      ...noInvitations,
      'POST account/team/': () =>
        fail(400, 'Invalid input.', { email: ['This email already has a pending invitation: resend or revoke it.'] }),
    });
    await u.type(await screen.findByLabelText('Email'), 'new@acme.test');
    await u.click(screen.getByRole('button', { name: 'Send invite' }));
    expect(await screen.findByText('This email already has a pending invitation: resend or revoke it.')).toBeInTheDocument();
  });

  it('removes a member after confirmation, and keeps them on cancel', async () => {
    let members = [owner, admin];
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page(members)),
      ...noInvitations,
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
    expect(screen.getByText('admin@acme.test was removed.')).toBeInTheDocument();
  });

  it('lets an admin manage only members and viewers, and assign only those roles', async () => {
    renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, admin, member])),
      'GET account/invitations/': () => ok(page([invitation(), invitation({ id: 33, email: 'boss@acme.test', role: 'admin' })])),
    }, { role: 'admin' });

    const role = await screen.findByLabelText('Role of mia@acme.test');
    expect(within(role).getAllByRole('option').map((o) => o.textContent)).toEqual(['Member', 'Viewer']);
    expect(screen.queryByRole('button', { name: 'Remove owner@acme.test' })).not.toBeInTheDocument();
    expect(within(screen.getByLabelText('Role')).getAllByRole('option').map((o) => o.textContent)).toEqual(['Member', 'Viewer']);
    expect(await screen.findByRole('button', { name: 'Revoke the invitation to new@acme.test' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Revoke the invitation to boss@acme.test' })).not.toBeInTheDocument();
  });

  it('hides every management control and the invitations from members', async () => {
    const { api } = renderApp('/account/team', { 'GET account/team/': () => ok(page([owner, admin, member])) }, { role: 'member' });

    expect(await screen.findByText('Ada Admin')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Invite a team member' })).not.toBeInTheDocument();
    expect(screen.queryByRole('combobox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Remove/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Pending invitations' })).not.toBeInTheDocument();
    expect(api.calls('GET account/invitations/')).toHaveLength(0);
  });
});
