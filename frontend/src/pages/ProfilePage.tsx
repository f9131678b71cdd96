import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { TextField } from '../components/Field';
import { FormError, fieldErrorsOf } from '../components/FormError';
import { QueryState } from '../components/QueryState';
import { useMe } from '../services/auth.api';
import { useUpdateProfile } from '../services/profile.api';
import type { User } from '../services/types';

function NameForm({ user }: { user: User }) {
  const update = useUpdateProfile();
  const [form, setForm] = useState({ first_name: user.first_name, last_name: user.last_name });
  const errors = fieldErrorsOf(update.error);

  const set = (field: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm({ ...form, [field]: event.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate(form);
  };

  return (
    <form onSubmit={submit} noValidate className="settings-form">
      <FormError error={update.error} fields={Object.keys(form)} />
      {update.isSuccess && (
        <p className="alert alert-success" role="status">
          Saved.
        </p>
      )}
      <div className="form-grid">
        <TextField label="First name" autoComplete="given-name" value={form.first_name}
          onChange={set('first_name')} errors={errors.first_name} />
        <TextField label="Last name" autoComplete="family-name" value={form.last_name}
          onChange={set('last_name')} errors={errors.last_name} />
      </div>
      <button type="submit" className="button primary" disabled={update.isPending}>
        {update.isPending ? 'Saving…' : 'Save'}
      </button>
    </form>
  );
}

export default function ProfilePage() {
  const me = useMe();
  return (
    <>
      <h1>Profile</h1>
      <QueryState query={me} what="your profile">
        {({ user }) => (
          <>
            <section className="card" aria-labelledby="profile-heading">
              <h2 id="profile-heading">Your name</h2>
              <p>
                Signed in as <strong>{user.email}</strong> ({user.role})
              </p>
              <NameForm user={user} />
            </section>
            <section className="card" aria-labelledby="security-heading">
              <h2 id="security-heading">Security</h2>
              <p>
                <Link to="/account/password">Change your password</Link>. Changing it signs out every other
                session.
              </p>
            </section>
          </>
        )}
      </QueryState>
    </>
  );
}
