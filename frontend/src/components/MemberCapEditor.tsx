import { useState, type FormEvent } from 'react';
import { SelectField, TextField } from './Field';
import { FormError, fieldErrorsOf } from './FormError';
import { formatCredits } from '../lib/format';
import { canManage } from '../lib/roles';
import { useTeamMembers } from '../services/account.api';
import { useMe } from '../services/auth.api';
import { capFromInput, useMemberCaps, useSetMemberCaps, type MemberCaps } from '../services/apiKeys.api';
import type { User } from '../services/types';

function CapsForm({ caps, member }: { caps: MemberCaps; member: User }) {
  const [daily, setDaily] = useState(caps.daily_credit_cap?.toString() ?? '');
  const [monthly, setMonthly] = useState(caps.monthly_credit_cap?.toString() ?? '');
  const save = useSetMemberCaps();
  const errors = fieldErrorsOf(save.error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      member_id: member.id,
      daily_credit_cap: capFromInput(daily),
      monthly_credit_cap: capFromInput(monthly),
    });
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Spending caps of ${member.email}`}>
      <p className="muted">
        Spent {formatCredits(caps.spent_today)} credits today and {formatCredits(caps.spent_this_month)} this month
        {caps.daily_credit_cap === null && caps.monthly_credit_cap === null ? ' (counted once a cap is set).' : '.'}
      </p>
      <FormError error={save.error} fields={['daily_credit_cap', 'monthly_credit_cap']} />
      {save.isSuccess && !save.isPending && (
        <p className="alert alert-success" role="status">
          Caps saved.
        </p>
      )}
      <div className="form-grid">
        <TextField label="Daily credit cap" type="number" min={0} value={daily} hint="Empty: no cap"
          errors={errors.daily_credit_cap} onChange={(e) => setDaily(e.target.value)} />
        <TextField label="Monthly credit cap" type="number" min={0} value={monthly} hint="Empty: no cap"
          errors={errors.monthly_credit_cap} onChange={(e) => setMonthly(e.target.value)} />
      </div>
      <button type="submit" className="button primary small" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save caps'}
      </button>
    </form>
  );
}

/** The team page's "Spending caps" card: owners and admins cap what one member may meter a day or a month. */
export function MemberCapEditor() {
  const me = useMe().data?.user;
  const team = useTeamMembers();
  const [memberId, setMemberId] = useState<number | null>(null);
  const caps = useMemberCaps(memberId);
  if (!canManage(me?.role) || !team.data?.results.length) return null;
  // Only an owner caps an owner (the API says the same).
  const members = team.data.results.filter((m) => m.is_active && (me?.role === 'owner' || m.role !== 'owner'));
  const member = members.find((m) => m.id === memberId);

  return (
    <section className="card" aria-labelledby="member-caps-heading">
      <h2 id="member-caps-heading">Spending caps</h2>
      <p className="muted">A member whose metering would pass a cap gets a 402 naming it. API keys have their own caps.</p>
      <SelectField label="Member" value={memberId ?? ''}
        onChange={(e) => setMemberId(e.target.value ? Number(e.target.value) : null)}>
        <option value="">Choose a member…</option>
        {members.map((m) => (
          <option key={m.id} value={m.id}>
            {m.email}
          </option>
        ))}
      </SelectField>
      {member && caps.isError && <FormError error={caps.error} />}
      {member && caps.data && <CapsForm key={member.id} caps={caps.data} member={member} />}
    </section>
  );
}
