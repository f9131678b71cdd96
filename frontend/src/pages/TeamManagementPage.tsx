import { useState } from 'react';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DataTable, type Column } from '../components/DataTable';
import { FormError } from '../components/FormError';
import { InviteForm } from '../components/InviteForm';
import { MemberCapEditor } from '../components/MemberCapEditor';
import { QueryState } from '../components/QueryState';
import { StatusBadge } from '../components/StatusBadge';
import { humanize } from '../lib/format';
import { assignableRoles, canActOn, canManage } from '../lib/roles';
import { useRemoveTeamMember, useTeamMembers, useUpdateTeamMemberRole } from '../services/account.api';
import { useMe } from '../services/auth.api';
import type { Role, User } from '../services/types';

const fullName = (user: User) => [user.first_name, user.last_name].filter(Boolean).join(' ');

export default function TeamManagementPage() {
  const me = useMe().data?.user;
  const team = useTeamMembers();
  const changeRole = useUpdateTeamMemberRole();
  const remove = useRemoveTeamMember();
  const [removing, setRemoving] = useState<User | null>(null);
  const roles = assignableRoles(me?.role);

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
            onChange={(e) => changeRole.mutate({ id: user.id, role: e.target.value as Role })}>
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
    { header: 'Status', cell: (user) => <StatusBadge status={user.is_active ? 'active' : 'invited'} /> },
    {
      header: <span className="visually-hidden">Actions</span>,
      cell: (user) =>
        canActOn(me, user) && (
          <button type="button" className="button danger small" onClick={() => setRemoving(user)}
            aria-label={`Remove ${user.email}`}>
            Remove
          </button>
        ),
    },
  ];

  return (
    <>
      <h1>Team</h1>
      {canManage(me?.role) && (
        <section className="card">
          <InviteForm roles={roles} />
        </section>
      )}
      <section className="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <FormError error={changeRole.error ?? remove.error} />
        <QueryState query={team} what="team members" isEmpty={(d) => d.results.length === 0}>
          {(data) => <DataTable caption="Team members" columns={columns} rows={data.results} rowKey={(u) => u.id} />}
        </QueryState>
      </section>
      <MemberCapEditor />
      {removing && (
        <ConfirmDialog
          title="Remove team member?"
          confirmLabel="Remove"
          busy={remove.isPending}
          onCancel={() => setRemoving(null)}
          onConfirm={() => remove.mutate(removing.id, { onSettled: () => setRemoving(null) })}
        >
          <p>
            {removing.email} will lose access to this account straight away.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
