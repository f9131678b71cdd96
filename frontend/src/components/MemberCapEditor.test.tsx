import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { user } from '../test/fixtures';
import { fail, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const owner = user();
const writer = user({ id: 4, email: 'writer@acme.test', role: 'member' });
const caps = { member_id: 4, daily_credit_cap: null, monthly_credit_cap: 3000, spent_today: 40, spent_this_month: 800 };

describe('MemberCapEditor on the team page', () => {
  it("loads a member's caps and saves new ones", async () => {
    const { user: u, api } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, writer])),
      'GET account/team/4/spending-caps/': () => ok(caps),
      'PUT account/team/4/spending-caps/': (request) => ok({ ...caps, ...(request.body as object) }),
    });
    await u.selectOptions(await screen.findByLabelText('Member'), 'writer@acme.test');
    expect(await screen.findByText(/Spent 40 credits today and 800 this month/)).toBeInTheDocument();
    expect(screen.getByLabelText('Monthly credit cap')).toHaveValue(3000);
    await u.type(screen.getByLabelText('Daily credit cap'), '150');
    await u.click(screen.getByRole('button', { name: 'Save caps' }));
    expect(await screen.findByText('Caps saved.')).toBeInTheDocument();
    expect(api.calls('PUT account/team/4/spending-caps/')[0].body).toEqual({
      daily_credit_cap: 150,
      monthly_credit_cap: 3000,
    });
  });

  it("shows the API's refusal", async () => {
    const { user: u } = renderApp('/account/team', {
      'GET account/team/': () => ok(page([owner, writer])),
      'GET account/team/4/spending-caps/': () => ok(caps),
      'PUT account/team/4/spending-caps/': () =>
        fail(400, 'daily_credit_cap: Ensure this value is greater than or equal to 0.', {
          daily_credit_cap: ['Ensure this value is greater than or equal to 0.'],
        }),
    });
    await u.selectOptions(await screen.findByLabelText('Member'), 'writer@acme.test');
    await u.type(await screen.findByLabelText('Daily credit cap'), '-1');
    await u.click(screen.getByRole('button', { name: 'Save caps' }));
    expect(await screen.findByText('Ensure this value is greater than or equal to 0.')).toBeInTheDocument();
  });

  it('is not offered to members', async () => {
    const { api } = renderApp('/account/team', { 'GET account/team/': () => ok(page([owner, writer])) }, { role: 'member' });
    await waitFor(() => expect(api.calls('GET account/team/')).toHaveLength(1));
    expect(await screen.findByText('writer@acme.test')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Spending caps' })).not.toBeInTheDocument();
  });
});
