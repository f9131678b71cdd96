import { useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DataTable, type Column } from '../components/DataTable';
import { FormError } from '../components/FormError';
import { InviteForm } from '../components/InviteForm';
import { MemberCapEditor } from '../components/MemberCapEditor';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { formatDate, humanize } from '../lib/format';
import { assignableRoles, canActOn, canManage } from '../lib/roles';
import {
  useInvitations,
  useRemoveTeamMember,
  useResendInvitation,
  useRevokeInvitation,
  useTeamMembers,
  useUpdateTeamMemberRole,
} from '../services/account.api';
import { useMe } from '../services/auth.api';
import type { Invitation, Role, User } from '../services/types';

const withArticle = (role: Role) => `${role === 'owner' || role === 'admin' ? 'an' : 'a'} ${role}`;
const fullName = (user: User) => [user.first_name, user.last_name].filter(Boolean).join(' ');
const ROLE_EFFECTS: Record<Role, string> = {
  owner: 'Owners can do everything, including buying credits, managing the team and handing out the owner role.',
  admin: 'Admins manage settings, purchases and members and viewers.',
  member: 'Members use credits and read billing.',
  viewer: 'Viewers read usage and billing but cannot use credits.',
};

type PendingAction =
  | { kind: 'role'; member: User; role: Role }
  | { kind: 'remove'; member: User }
  | { kind: 'revoke'; invitation: Invitation };

function SeatCount({ used, allowed, plan }: { used: number; allowed: number | undefined; plan: string | undefined }) {
  if (!allowed) return null;
  const full = used >= allowed;
  return (
    <p className={full ? 'notice' : 'muted'} aria-label="Seats">
      <span className="strong">
        {used} of {allowed} seats used
      </span>
      {plan && ` on the ${plan} plan`}
      {full ? '. Every seat is taken: remove a member or revoke an invitation to invite someone else.' : '.'}
    </p>
  );
}

export default function TeamManagementPage() {
  const session = useMe().data;
  const me = session?.user;
  const team = useTeamMembers();
  const managing = canManage(me?.role);
  const invitations = useInvitations(managing);
  const changeRole = useUpdateTeamMemberRole();
  const remove = useRemoveTeamMember();
  const resend = useResendInvitation();
  const revoke = useRevokeInvitation();
  const [pending, setPending] = useState<PendingAction | null>(null);
  const [feedback, setFeedback] = useState('');
  const roles = assignableRoles(me?.role);

  const done = (message: string) => () => {
    setPending(null);
    setFeedback(message);
  };

  const confirm = () => {
    if (!pending) return;
    setFeedback('');
    if (pending.kind === 'revoke') {
      const { invitation } = pending;
      revoke.mutate(invitation.id, {
        onSuccess: done(`The invitation to ${invitation.email} was revoked.`),
        onError: () => setPending(null),
      });
      return;
    }
    const { member } = pending;
    if (pending.kind === 'role') {
      changeRole.mutate({ id: member.id, role: pending.role }, {
        onSuccess: done(`${member.email} is now ${withArticle(pending.role)}.`),
        onError: () => setPending(null),
      });
    } else {
      remove.mutate(member.id, { onSuccess: done(`${member.email} was removed.`), onError: () => setPending(null) });
    }
  };

  const columns: Column<User>[] = [
    {
      header: 'Member',
      cell: (user) => (
        <>
          <span className="strong">{fullName(user) || user.email}</span>
          {fullName(user) && <span className="muted block">{user.email}</span>}
          {user.id === me?.id && <span className="muted"> (you)</span>}
        </>
      ),
    },
    {
      header: 'Role',
      cell: (user) =>
        canActOn(me, user) ? (
          <select aria-label={`Role of ${user.email}`} value={user.role} disabled={changeRole.isPending}
            onChange={(e) => setPending({ kind: 'role', member: user, role: e.target.value as Role })}>
            {roles.map((role) => (
              <option key={role} value={role}>
                {humanize(role)}
              </option>
            ))}
          </select>
        ) : (
          humanize(user.role)
        ),
    },
    { header: 'Status', cell: (user) => <StatusBadge status={user.is_active ? 'active' : 'inactive'} /> },
    {
      header: <span className="visually-hidden">Actions</span>,
      cell: (user) =>
        canActOn(me, user) && (
          <button type="button" className="button danger small" onClick={() => setPending({ kind: 'remove', member: user })}
            aria-label={`Remove ${user.email}`}>
            Remove
          </button>
        ),
    },
  ];

  // Admins may only resend or revoke invitations to roles they could hand out themselves.
  const mayTouch = (invitation: Invitation) => me?.role === 'owner' || roles.includes(invitation.role);
  const invitationColumns: Column<Invitation>[] = [
    { header: 'Email', cell: (i) => <span className="strong">{i.email}</span> },
    { header: 'Role', cell: (i) => humanize(i.role) },
    {
      header: 'Invited',
      cell: (i) => (
        <>
          {formatDate(i.created_at)}
          {i.invited_by_email && <span className="muted block small-text">by {i.invited_by_email}</span>}
        </>
      ),
    },
    {
      header: 'Expires',
      cell: (i) => (i.status === 'expired' ? <StatusBadge status="expired" /> : formatDate(i.expires_at)),
    },
    {
      header: <span className="visually-hidden">Actions</span>,
      cell: (i) =>
        mayTouch(i) && (
          <div className="row-actions">
            <button type="button" className="button secondary small" disabled={resend.isPending}
              aria-label={`Resend the invitation to ${i.email}`}
              onClick={() => {
                setFeedback('');
                resend.mutate(i.id, { onSuccess: () => setFeedback(`The invitation to ${i.email} was sent again.`) });
              }}>
              Resend
            </button>
            <button type="button" className="button danger small" aria-label={`Revoke the invitation to ${i.email}`}
              onClick={() => setPending({ kind: 'revoke', invitation: i })}>
              Revoke
            </button>
          </div>
        ),
    },
  ];

  // A seat is a joined member or an unexpired invitation, as the API counts them.
  const openInvitations = (invitations.data?.results ?? []).filter((i) => i.status === 'pending').length;
  const seatsKnown = team.data !== undefined && (!managing || invitations.data !== undefined);

  const busy = changeRole.isPending || remove.isPending || revoke.isPending;

  return (
    <>
      <h1>Team</h1>
      {managing && (
        <section className="card">
          <InviteForm roles={roles} />
        </section>
      )}
      <section className="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {seatsKnown && team.data && (
          <SeatCount used={team.data.count + openInvitations} allowed={session?.account.plan?.max_users}
            plan={session?.account.plan?.name} />
        )}
        {feedback && (
          <p className="alert alert-success" role="status">
            {feedback}
          </p>
        )}
        <FormError error={changeRole.error ?? remove.error ?? resend.error ?? revoke.error} />
        <QueryState query={team} what="team members" isEmpty={(d) => d.results.length === 0}>
          {(data) => <DataTable caption="Team members" columns={columns} rows={data.results} rowKey={(u) => u.id} />}
        </QueryState>
      </section>
      {managing && (
        <section className="card" aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">Pending invitations</h2>
          <QueryState query={invitations} what="invitations" isEmpty={(d) => d.results.length === 0}
            empty={<p>No pending invitations.</p>}>
            {(data) => (
              <DataTable caption="Pending invitations" columns={invitationColumns} rows={data.results} rowKey={(i) => i.id} />
            )}
          </QueryState>
        </section>
      )}
      <MemberCapEditor />
      {pending?.kind === 'role' && (
        <ConfirmDialog title={`Make ${pending.member.email} ${withArticle(pending.role)}?`}
          confirmLabel={`Change to ${humanize(pending.role)}`} tone={pending.role === 'owner' ? 'danger' : 'primary'}
          busy={busy} onCancel={() => setPending(null)} onConfirm={confirm}>
          <p>
            {humanize(pending.member.role)} → <strong>{humanize(pending.role)}</strong>. {ROLE_EFFECTS[pending.role]}
          </p>
          {pending.role === 'owner' && <p>They will be able to remove you and every other owner.</p>}
        </ConfirmDialog>
      )}
      {pending?.kind === 'remove' && (
        <ConfirmDialog title="Remove team member?" confirmLabel="Remove" busy={busy} onCancel={() => setPending(null)}
          onConfirm={confirm}>
          <p>{pending.member.email} will lose access to this account straight away.</p>
        </ConfirmDialog>
      )}
      {pending?.kind === 'revoke' && (
        <ConfirmDialog title="Revoke invitation?" confirmLabel="Revoke" busy={busy} onCancel={() => setPending(null)}
          onConfirm={confirm}>
          <p>The link sent to {pending.invitation.email} will stop working and the seat is freed.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
