import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { useChangePassword } from '../services/password.api';

export default function ChangePasswordPage() {
  const [form, setForm] = useState({ current_password: '', new_password: '' });
  const change = useChangePassword();
  const errors = fieldErrorsOf(change.error);

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [field]: event.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(form, { onSuccess: () => setForm({ current_password: '', new_password: '' }) });
  };

  return (
    <>
      <h1>Change password</h1>
      <section className="card" aria-labelledby="password-heading">
        <h2 id="password-heading">Your password</h2>
        <form onSubmit={submit} noValidate className="settings-form">
          <FormError error={change.error} fields={Object.keys(form)} />
          {change.isSuccess && (
            <p className="alert alert-success" role="status">
              Password changed. Every other session has been signed out.
            </p>
          )}
          <TextField label="Current password" type="password" autoComplete="current-password" required
            value={form.current_password} onChange={set('current_password')} errors={errors.current_password} />
          <TextField label="New password" type="password" autoComplete="new-password" required
            value={form.new_password} onChange={set('new_password')} errors={errors.new_password} />
          <button type="submit" className="button primary"
            disabled={change.isPending || !form.current_password || !form.new_password}>
            {change.isPending ? 'Saving…' : 'Change password'}
          </button>
        </form>
      </section>
      <p>
        <Link to="/account/profile">Back to your profile</Link>
      </p>
    </>
  );
}
