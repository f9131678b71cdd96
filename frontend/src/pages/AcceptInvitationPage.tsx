import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { formatDate, humanize } from '../lib/format';
import { maxLengthOf } from '../lib/limits';
import { ApiError, errorMessage } from '../services/api';
import { useAcceptInvitation, useInvitationLookup } from '../services/auth.api';

function Dead({ message }: { message: string }) {
  return (
    <AuthLayout title="Join your team">
      <div className="alert alert-error" role="alert">
        <p>{message}</p>
      </div>
      <p className="auth-switch">
        Ask whoever invited you to send a new invitation, or <Link to="/login">sign in</Link> if you already joined.
      </p>
    </AuthLayout>
  );
}

/**
 * Where the invitation email's link lands. The invitation is looked up first, so the page says which account,
 * who invited you and with which email, and a dead link says so before anyone types a password.
 */
export default function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const invitation = useInvitationLookup(token);
  const [form, setForm] = useState({ first_name: '', last_name: '', password: '' });
  const accept = useAcceptInvitation();
  const navigate = useNavigate();
  const errors = fieldErrorsOf(accept.error);

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [field]: event.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    accept.mutate({ token, ...form }, { onSuccess: () => navigate('/account/billing', { replace: true }) });
  };

  if (!token) return <Dead message="This invitation link is incomplete. Open the link from your invitation email again." />;
  if (invitation.isPending) {
    return (
      <AuthLayout title="Join your team">
        <p className="state state-loading" role="status">
          Checking your invitation…
        </p>
      </AuthLayout>
    );
  }
  if (invitation.isError) {
    const gone = invitation.error instanceof ApiError && invitation.error.status === 404;
    return (
      <Dead message={gone ? 'This invitation is invalid, used or expired.' : `Could not check the invitation: ${errorMessage(invitation.error)}`} />
    );
  }
  const details = invitation.data;

  return (
    <AuthLayout title={`Join ${details.account_name}`}>
      <p className="invitation-summary">
        {details.invited_by ? <strong>{details.invited_by}</strong> : 'A team owner'} invited you to{' '}
        <strong>{details.account_name}</strong> on creditdesk as {humanize(details.role).toLowerCase()}.
      </p>
      <dl className="invitation-details">
        <div>
          <dt>Your sign-in email</dt>
          <dd>{details.email}</dd>
        </div>
        <div>
          <dt>Link valid until</dt>
          <dd>{formatDate(details.expires_at)}</dd>
        </div>
      </dl>
      <form onSubmit={submit} noValidate>
        <FormError error={accept.error} fields={Object.keys(form)} />
        <TextField label="First name" autoComplete="given-name" maxLength={maxLengthOf('first_name')} value={form.first_name}
          onChange={set('first_name')} errors={errors.first_name} />
        <TextField label="Last name" autoComplete="family-name" maxLength={maxLengthOf('last_name')} value={form.last_name}
          onChange={set('last_name')} errors={errors.last_name} />
        <TextField label="Choose a password" type="password" autoComplete="new-password" required
          maxLength={maxLengthOf('password')} value={form.password} onChange={set('password')} errors={errors.password} />
        <input type="hidden" name="username" autoComplete="username" value={details.email} />
        <button type="submit" className="button primary wide" disabled={accept.isPending}>
          {accept.isPending ? 'Joining…' : `Join ${details.account_name}`}
        </button>
      </form>
    </AuthLayout>
  );
}
