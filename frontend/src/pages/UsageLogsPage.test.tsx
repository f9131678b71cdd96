import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { creditCosts, usageLog } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const costs = () => ok(page(creditCosts()));

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

  it("names operations as the price list does, and shows no provider cost as the customer's price", async () => {
    renderApp('/account/usage-logs', {
      'GET billing/credits/usage/': () =>
        ok(page([usageLog(), usageLog({ id: 22, operation_type: 'retired_op', tokens_input: null, tokens_output: null, reference_id: '' })])),
      'GET billing/credit-costs/': costs,
    });
    expect(await screen.findByText('Keyword clustering', { selector: 'td' })).toBeInTheDocument();
    expect(screen.getByText('Retired op')).toBeInTheDocument(); // an operation the price list dropped
    expect(screen.getByText('1,200 in / 300 out')).toBeInTheDocument();
    expect(screen.queryByText('$0.10')).not.toBeInTheDocument();
    expect(screen.queryByRole('columnheader', { name: /Cost/ })).not.toBeInTheDocument();
    expect(screen.getByText('job-42')).toHaveAttribute('title', 'job-42');
    expect(within(screen.getByLabelText('Operation')).getAllByRole('option').map((o) => o.textContent)).toEqual([
      'All', 'Content writing', 'Keyword clustering', 'Internal linking',
    ]);
  });

  it('refuses a From date after the To date instead of silently matching nothing', async () => {
    const { api } = renderApp('/account/usage-logs?from=2026-11-20&to=2026-11-10', {
      'GET billing/credits/usage/': () => ok(page([usageLog()])),
      'GET billing/credit-costs/': costs,
    });
    expect(await screen.findByText('The From date must be on or before the To date.')).toBeInTheDocument();
    expect(screen.getByLabelText('To')).toHaveAttribute('aria-invalid', 'true');
    const sent = api.calls('GET billing/credits/usage/')[0].url.searchParams;
    expect(sent.get('created_after')).toBeNull();
    expect(sent.get('created_before')).toBeNull();
  });

  it('lists usage and filters by operation type', async () => {
    const { user, api } = renderApp('/account/usage-logs', {
      'GET billing/credits/usage/': (request) =>
        request.url.searchParams.get('operation_type') ? ok(page([])) : ok(page([usageLog()])),
      'GET billing/credit-costs/': costs,
    });

    expect(await screen.findByText('job-42')).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Operation'), 'Keyword clustering');
    expect(await screen.findByText('No usage matches these filters.')).toBeInTheDocument();
    expect(api.calls('GET billing/credits/usage/').at(-1)!.url.searchParams.get('operation_type')).toBe('clustering');
  });
});
