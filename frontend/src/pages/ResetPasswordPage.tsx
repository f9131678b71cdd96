import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { AuthLayout } from '../components/AuthLayout';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useConfirmPasswordReset } from '../services/password.api';

/** Where the reset mail's link lands: a new password, then sign in with it (every old session has ended). */
export default function ResetPasswordPage() {
  const [params] = useSearchParams();
  const uid = params.get('uid') ?? '';
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const reset = useConfirmPasswordReset();
  const errors = fieldErrorsOf(reset.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate({ uid, token, password });
  };

  if (!uid || !token) {
    return (
      <AuthLayout title="Choose a new password">
        <div className="alert alert-error" role="alert">
          <p>This reset link is incomplete. Open the link from the email again, or ask for a new one.</p>
        </div>
        <p className="auth-switch">
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Choose a new password">
      {reset.isSuccess ? (
        <p className="alert alert-success" role="status">
          Your password is set and every other session has ended. <Link to="/login">Sign in</Link> with it.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <FormError error={reset.error} fields={['password']} />
          <TextField label="New password" type="password" autoComplete="new-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} errors={errors.password} />
          <button type="submit" className="button primary wide" disabled={reset.isPending || !password}>
            {reset.isPending ? 'Saving…' : 'Set the password'}
          </button>
          {errors.token && (
            <p className="auth-switch">
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          )}
        </form>
      )}
    </AuthLayout>
  );
}
