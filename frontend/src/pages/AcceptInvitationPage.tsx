import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useAcceptInvitation } from '../services/auth.api';

/** Where the invitation email's link lands: the invited member chooses a password and is signed in. */
export default function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
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

  if (!token) {
    return (
      <AuthLayout title="Join your team">
        <div className="alert alert-error" role="alert">
          <p>This invitation link is incomplete. Open the link from your invitation email again.</p>
        </div>
        <p className="auth-switch">
          <Link to="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Join your team">
      <form onSubmit={submit} noValidate>
        <FormError error={accept.error} fields={[...Object.keys(form), 'token']} />
        <TextField label="First name" autoComplete="given-name" value={form.first_name}
          onChange={set('first_name')} errors={errors.first_name} />
        <TextField label="Last name" autoComplete="family-name" value={form.last_name}
          onChange={set('last_name')} errors={errors.last_name} />
        <TextField label="Password" type="password" autoComplete="new-password" required value={form.password}
          onChange={set('password')} errors={errors.password} />
        <button type="submit" className="button primary wide" disabled={accept.isPending}>
          {accept.isPending ? 'Joining…' : 'Join the team'}
        </button>
      </form>
    </AuthLayout>
  );
}
