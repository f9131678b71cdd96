import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { analytics, creditCosts } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

describe('UsageAnalyticsPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/usage', { 'GET account/usage/analytics/': never });
    expect(await screen.findByText('Loading usage analytics…')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/usage', { 'GET account/usage/analytics/': () => fail(500, 'Boom.') });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load usage analytics: Boom.');
  });

  it('shows an empty state with the balance when nothing happened in the period', async () => {
    renderApp('/account/usage', {
      'GET account/usage/analytics/': () =>
        ok(analytics({ usage_by_type: [], daily_usage: [], usage_by_operation: [], total_usage: 0, total_purchases: 0 })),
    });
    expect(await screen.findByText('No credit activity in the last 30 days.')).toBeInTheDocument();
    expect(screen.getByText('Current balance').nextSibling).toHaveTextContent('1,490');
  });

  it('shows totals, separate usage and inflow charts, the breakdowns, and switches period', async () => {
    const { user, api } = renderApp('/account/usage', {
      'GET account/usage/analytics/': (request) =>
        ok(analytics({ period_days: Number(request.url.searchParams.get('days')) })),
      'GET billing/credit-costs/': () => ok(page(creditCosts())),
    });

    expect(await screen.findByText('Credits used')).toBeInTheDocument();
    expect(screen.getByText('Credits used').nextSibling).toHaveTextContent('10');
    expect(screen.getByText('Credits purchased').nextSibling).toHaveTextContent('500');
    expect(screen.getByText('Plan grants').nextSibling).toHaveTextContent('—'); // an older backend sends no grants
    expect(screen.getByRole('figure', { name: 'Credits used per day' })).toBeInTheDocument();
    expect(screen.getByRole('figure', { name: 'Credits added per day' })).toBeInTheDocument();
    expect(screen.getByRole('figure', { name: 'Credits used by operation' })).toBeInTheDocument();

    const byOperation = within(screen.getByRole('region', { name: 'Usage by operation' }));
    expect(await byOperation.findByText('Keyword clustering', { selector: 'td' })).toBeInTheDocument();
    expect(byOperation.queryByText('$0.10')).not.toBeInTheDocument();
    const byType = within(screen.getByRole('region', { name: 'Credits by transaction type' }));
    expect(byType.getByText('Deduction')).toBeInTheDocument();
    expect(byType.getByText('-10')).toBeInTheDocument();

    expect(api.calls('GET account/usage/analytics/')[0].url.searchParams.get('days')).toBe('30');
    await user.click(screen.getByLabelText('7 days'));
    expect(screen.getByLabelText('7 days')).toBeChecked();
    await screen.findByText('Credits used');
    expect(api.calls('GET account/usage/analytics/').at(-1)!.url.searchParams.get('days')).toBe('7');
  });

  it('counts monthly grants as an inflow', async () => {
    renderApp('/account/usage', {
      'GET account/usage/analytics/': () =>
        ok(analytics({
          total_grants: 1000,
          daily_usage: [{ date: '2026-11-01', usage: 0, purchases: 0, grants: 1000, net: 1000 }],
        })),
    });
    expect(await screen.findByText('Plan grants')).toBeInTheDocument();
    expect(screen.getByText('Plan grants').nextSibling).toHaveTextContent('1,000');
  });

  it('asks for a custom date range, checks it, and sends it as start and end', async () => {
    const { user, api } = renderApp('/account/usage', {
      'GET account/usage/analytics/': (request) => {
        const start = request.url.searchParams.get('start');
        return ok(analytics(start ? { start, end: request.url.searchParams.get('end')!, period_days: 10 } : {}));
      },
    });
    await user.click(await screen.findByLabelText('Custom'));
    const range = within(screen.getByRole('form', { name: 'Custom date range' }));
    await user.type(range.getByLabelText('From'), '2026-11-20');
    await user.type(range.getByLabelText('To'), '2026-11-10');
    await user.click(range.getByRole('button', { name: 'Show' }));
    expect(range.getByText('The From date must be on or before the To date.')).toBeInTheDocument();
    expect(api.calls('GET account/usage/analytics/').some((r) => r.url.searchParams.has('start'))).toBe(false);

    await user.clear(range.getByLabelText('To'));
    await user.type(range.getByLabelText('To'), '2026-11-29');
    await user.click(range.getByRole('button', { name: 'Show' }));
    expect(await screen.findByText('Showing Nov 20, 2026 – Nov 29, 2026 (UTC days).')).toBeInTheDocument();
    const sent = api.calls('GET account/usage/analytics/').at(-1)!.url.searchParams;
    expect([sent.get('start'), sent.get('end'), sent.get('days')]).toEqual(['2026-11-20', '2026-11-29', null]);
    expect(screen.getByTestId('location')).toHaveTextContent('/account/usage?start=2026-11-20&end=2026-11-29');
  });
});
