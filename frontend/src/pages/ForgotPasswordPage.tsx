import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useRequestPasswordReset } from '../services/password.api';

/** Asks for a reset link; the answer never says whether the address has an account. */
export default function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const reset = useRequestPasswordReset();
  const errors = fieldErrorsOf(reset.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate(email.trim());
  };

  return (
    <AuthLayout title="Reset your password">
      {reset.isSuccess ? (
        <p className="alert alert-success" role="status">
          {reset.data.detail} Check your inbox; the link works once, for a limited time.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <FormError error={reset.error} fields={['email']} />
          <TextField label="Email" type="email" autoComplete="email" required value={email}
            onChange={(e) => setEmail(e.target.value)} errors={errors.email} />
          <button type="submit" className="button primary wide" disabled={reset.isPending || !email.trim()}>
            {reset.isPending ? 'Sending…' : 'Send a reset link'}
          </button>
        </form>
      )}
      <p className="auth-switch">
        <Link to="/login">Back to sign in</Link>
      </p>
    </AuthLayout>
  );
}
