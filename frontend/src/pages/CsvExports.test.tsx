import { screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { transaction, usageLog } from '../test/fixtures';
import { fail, ok, page } from '../test/http';
import { renderApp } from '../test/render';

function stubDownloads() {
  const createObjectURL = vi.fn(() => 'blob:csv');
  vi.stubGlobal('URL', class extends URL {
    static createObjectURL = createObjectURL;
    static revokeObjectURL = vi.fn();
  });
  const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
  return { createObjectURL, click };
}

const csv = (text: string) => new Response(text, { headers: { 'Content-Type': 'text/csv; charset=utf-8' } });

describe('Download CSV', () => {
  afterEach(() => vi.restoreAllMocks());

  it('downloads the transactions with the filters on screen, without the page, with the bearer header', async () => {
    const { click } = stubDownloads();
    const { user, api } = renderApp('/account/transactions?type=deduction&from=2026-11-01&page=3', {
      'GET billing/transactions/': () => ok(page([transaction()])),
      'GET billing/transactions/export/': () => csv('id,created_at\n1,2026-11-21T08:30:00Z\n'),
    });

    await user.click(await screen.findByRole('button', { name: 'Download transactions as CSV' }));

    await waitFor(() => expect(click).toHaveBeenCalled());
    const request = api.calls('GET billing/transactions/export/')[0];
    expect(request.headers.get('Authorization')).toBe('Bearer access-1');
    expect(request.headers.get('Accept')).toBe('text/csv');
    expect(request.url.searchParams.get('transaction_type')).toBe('deduction');
    expect(request.url.searchParams.get('created_after')).toBeTruthy();
    expect(request.url.searchParams.has('page')).toBe(false);
    expect(request.url.searchParams.has('page_size')).toBe(false);
  });

  it('downloads the usage logs with the operation filter', async () => {
    const { click } = stubDownloads();
    const { user, api } = renderApp('/account/usage-logs?type=clustering', {
      'GET billing/credits/usage/': () => ok(page([usageLog()])),
      'GET billing/credit-costs/': () => ok(page([])),
      'GET billing/credits/usage/export/': () => csv('id\n21\n'),
    });

    await user.click(await screen.findByRole('button', { name: 'Download usage logs as CSV' }));

    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(api.calls('GET billing/credits/usage/export/')[0].url.searchParams.get('operation_type')).toBe('clustering');
  });

  it('says why a download failed', async () => {
    stubDownloads();
    const { user } = renderApp('/account/transactions', {
      'GET billing/transactions/': () => ok(page([transaction()])),
      'GET billing/transactions/export/': () => fail(400, 'transaction_type: Select a valid choice.'),
    });

    await user.click(await screen.findByRole('button', { name: 'Download transactions as CSV' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not download transactions: transaction_type: Select a valid choice.',
    );
  });
});
