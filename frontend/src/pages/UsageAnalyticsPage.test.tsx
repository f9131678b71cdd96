import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { analytics } from '../test/fixtures';
import { fail, never, ok } from '../test/http';
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

  it('shows totals, the chart and the breakdowns, and switches period', async () => {
    const { user, api } = renderApp('/account/usage', {
      'GET account/usage/analytics/': (request) =>
        ok(analytics({ period_days: Number(request.url.searchParams.get('days')) })),
    });

    expect(await screen.findByText('Credits used')).toBeInTheDocument();
    expect(screen.getByText('Credits used').nextSibling).toHaveTextContent('10');
    expect(screen.getByText('Credits purchased').nextSibling).toHaveTextContent('500');
    expect(screen.getByRole('figure', { name: 'Daily credits used and purchased' })).toBeInTheDocument();

    const byOperation = within(screen.getByRole('region', { name: 'Usage by operation' }));
    expect(byOperation.getByText('Clustering')).toBeInTheDocument();
    expect(byOperation.getByText('$0.10')).toBeInTheDocument();
    const byType = within(screen.getByRole('region', { name: 'Credits by transaction type' }));
    expect(byType.getByText('Deduction')).toBeInTheDocument();
    expect(byType.getByText('-10')).toBeInTheDocument();

    expect(api.calls('GET account/usage/analytics/')[0].url.searchParams.get('days')).toBe('30');
    await user.click(screen.getByLabelText('7 days'));
    expect(screen.getByLabelText('7 days')).toBeChecked();
    await screen.findByText('Credits used');
    expect(api.calls('GET account/usage/analytics/').at(-1)!.url.searchParams.get('days')).toBe('7');
  });
});
