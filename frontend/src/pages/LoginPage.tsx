import { useState, type FormEvent } from 'react';
import { Link, Navigate } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useAfterSignIn } from '../hooks/useAfterSignIn';
import { useIsSignedIn, useLogin } from '../services/auth.api';
import { maxLengthOf } from '../lib/limits';

export default function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useLogin();
  const afterSignIn = useAfterSignIn();
  const signedIn = useIsSignedIn();
  const errors = fieldErrorsOf(login.error);

  if (signedIn && !login.isPending && !login.isSuccess) return <Navigate to="/account/billing" replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password }, { onSuccess: afterSignIn.go });
  };

  return (
    <AuthLayout title="Sign in">
      <form onSubmit={submit} noValidate>
        <FormError error={login.error} fields={['email', 'password']} />
        <TextField label="Email" maxLength={maxLengthOf('email')} type="email" autoComplete="email" required value={email}
          onChange={(e) => setEmail(e.target.value)} errors={errors.email} />
        <TextField label="Password" maxLength={maxLengthOf('password')} type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} errors={errors.password} />
        <button type="submit" className="button primary wide" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="auth-switch">
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p className="auth-switch">
        New to creditdesk?{' '}
        <Link to="/register" state={afterSignIn.state}>
          Create an account
        </Link>
      </p>
    </AuthLayout>
  );
}
