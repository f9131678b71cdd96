import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { usageLog } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const costs = () =>
  ok(page([{ operation_type: 'clustering', display_name: 'Clustering', credits_per_unit: 10, unit: 'request', is_active: true }]));

describe('UsageLogsPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/usage-logs', { 'GET billing/credits/usage/': never, 'GET billing/credit-costs/': costs });
    expect(await screen.findByText('Loading usage logs…')).toBeInTheDocument();
  });

  it('shows an empty state', async () => {
    renderApp('/account/usage-logs', { 'GET billing/credits/usage/': () => ok(page([])), 'GET billing/credit-costs/': costs });
    expect(await screen.findByText('No usage recorded yet.')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/usage-logs', { 'GET billing/credits/usage/': () => fail(500, 'Boom.'), 'GET billing/credit-costs/': costs });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load usage logs: Boom.');
  });

  it('lists usage and filters by operation type', async () => {
    const { user, api } = renderApp('/account/usage-logs', {
      'GET billing/credits/usage/': (request) =>
        request.url.searchParams.get('operation_type') ? ok(page([])) : ok(page([usageLog()])),
      'GET billing/credit-costs/': costs,
    });

    expect(await screen.findByText('job-42')).toBeInTheDocument();
    expect(screen.getByText('1200 / 300')).toBeInTheDocument();
    expect(screen.getByText('$0.10')).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Operation type'), 'Clustering');
    expect(await screen.findByText('No usage matches these filters.')).toBeInTheDocument();
    expect(api.calls('GET billing/credits/usage/').at(-1)!.url.searchParams.get('operation_type')).toBe('clustering');
  });
});
