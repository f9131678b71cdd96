import { useState, type FormEvent } from 'react';
import { humanize } from '../lib/format';
import { useInviteTeamMember } from '../services/account.api';
import type { Role } from '../services/types';
import { SelectField, TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { maxLengthOf } from '../lib/limits';

export function InviteForm({ roles }: { roles: Role[] }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const invite = useInviteTeamMember();
  const errors = fieldErrorsOf(invite.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate({ email, role }, { onSuccess: () => setEmail('') });
  };

  return (
    <form className="invite-form" onSubmit={submit} noValidate aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite a team member</h2>
      <FormError error={invite.error} fields={['email', 'role']} />
      {invite.isSuccess && (
        <p className="alert alert-success" role="status">
          Invitation sent to {invite.data.email}.
        </p>
      )}
      <div className="inline-fields">
        <TextField label="Email" maxLength={maxLengthOf('email')} type="email" autoComplete="off" required value={email}
          onChange={(e) => setEmail(e.target.value)} errors={errors.email} />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} errors={errors.role}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {humanize(r)}
            </option>
          ))}
        </SelectField>
        <button type="submit" className="button primary" disabled={invite.isPending || !email.trim()}>
          {invite.isPending ? 'Inviting…' : 'Send invite'}
        </button>
      </div>
    </form>
  );
}
