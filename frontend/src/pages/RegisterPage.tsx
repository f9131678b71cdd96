import { useState, type FormEvent } from 'react';
import { Link, Navigate } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useAfterSignIn } from '../hooks/useAfterSignIn';
import { useIsSignedIn, useRegister } from '../services/auth.api';
import { maxLengthOf } from '../lib/limits';

export default function RegisterPage() {
  const [form, setForm] = useState({ account_name: '', email: '', password: '' });
  const register = useRegister();
  const afterSignIn = useAfterSignIn();
  const signedIn = useIsSignedIn();
  const errors = fieldErrorsOf(register.error);

  if (signedIn && !register.isPending && !register.isSuccess) return <Navigate to="/account/billing" replace />;

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [field]: event.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate(form, { onSuccess: afterSignIn.go });
  };

  return (
    <AuthLayout title="Create your account">
      <form onSubmit={submit} noValidate>
        <FormError error={register.error} fields={Object.keys(form)} />
        <TextField label="Account name" maxLength={maxLengthOf('account_name')} autoComplete="organization" required value={form.account_name}
          onChange={set('account_name')} errors={errors.account_name} />
        <TextField label="Email" maxLength={maxLengthOf('email')} type="email" autoComplete="email" required value={form.email}
          onChange={set('email')} errors={errors.email} />
        <TextField label="Password" maxLength={maxLengthOf('password')} type="password" autoComplete="new-password" required value={form.password}
          onChange={set('password')} errors={errors.password} />
        <button type="submit" className="button primary wide" disabled={register.isPending}>
          {register.isPending ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p className="auth-switch">
        Already have an account?{' '}
        <Link to="/login" state={afterSignIn.state}>
          Sign in
        </Link>
      </p>
    </AuthLayout>
  );
}
