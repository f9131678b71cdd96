import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { transaction } from '../test/fixtures';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

describe('TransactionsPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/transactions', { 'GET billing/transactions/': never });
    expect(await screen.findByText('Loading transactions…')).toBeInTheDocument();
  });

  it('shows an empty state', async () => {
    renderApp('/account/transactions', { 'GET billing/transactions/': () => ok(page([])) });
    expect(await screen.findByText('No transactions yet.')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/transactions', { 'GET billing/transactions/': () => fail(503, 'Service unavailable.') });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load transactions: Service unavailable.');
  });

  it('lists transactions and filters them by type and date range', async () => {
    const { user, api } = renderApp('/account/transactions', {
      'GET billing/transactions/': (request) =>
        request.url.searchParams.get('transaction_type') === 'deduction'
          ? ok(page([transaction({ id: 12, amount: -10, transaction_type: 'deduction', description: 'clustering' })]))
          : ok(page([transaction()])),
    });

    expect(await screen.findByText('+500')).toBeInTheDocument();
    expect(screen.getByText('Starter Pack')).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Transaction type'), 'deduction');
    expect(await screen.findByText('-10')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/account/transactions?type=deduction');

    await user.type(screen.getByLabelText('From'), '2026-11-01');
    await user.type(screen.getByLabelText('To'), '2026-11-22');
    const last = api.calls('GET billing/transactions/').at(-1)!.url.searchParams;
    expect(last.get('transaction_type')).toBe('deduction');
    expect(new Date(last.get('created_after')!).getTime()).toBe(new Date('2026-11-01T00:00:00').getTime());
    expect(new Date(last.get('created_before')!).getTime()).toBe(new Date('2026-11-22T23:59:59.999').getTime());
  });

  it('pages with previous and next', async () => {
    const { user, api } = renderApp('/account/transactions', {
      'GET billing/transactions/': (request) =>
        request.url.searchParams.get('page') === '2'
          ? ok({ ...page([transaction({ id: 30, description: 'Older grant', transaction_type: 'grant' })], { previous: 'p' }), count: 21 })
          : ok({ ...page([transaction()], { next: 'n' }), count: 21 }),
    });

    expect(await screen.findByRole('button', { name: 'Previous' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('Older grant')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
    expect(api.calls('GET billing/transactions/').at(-1)!.url.searchParams.get('page_size')).toBe('20');
  });
});
