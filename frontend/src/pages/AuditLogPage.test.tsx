import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { AuditLogEntry } from '../services/exports.api';
import { fail, never, ok, page } from '../test/http';
import { renderApp } from '../test/render';

const entry = (overrides: Partial<AuditLogEntry> = {}): AuditLogEntry => ({
  id: 1,
  actor_email: 'owner@acme.test',
  action: 'team.invited',
  target: 'new@acme.test',
  changes: { role: 'member' },
  ip_address: '192.0.2.7',
  created_at: '2026-11-21T08:30:00Z',
  ...overrides,
});

describe('AuditLogPage', () => {
  it('shows a loading state', async () => {
    renderApp('/account/audit-log', { 'GET account/audit-log/': never });
    expect(await screen.findByText('Loading audit log entries…')).toBeInTheDocument();
  });

  it('shows an empty state', async () => {
    renderApp('/account/audit-log', { 'GET account/audit-log/': () => ok(page([])) });
    expect(await screen.findByText('Nothing recorded yet.')).toBeInTheDocument();
  });

  it('shows an error state', async () => {
    renderApp('/account/audit-log', { 'GET account/audit-log/': () => fail(503, 'Service unavailable.') });
    expect(await screen.findByRole('alert')).toHaveTextContent('Service unavailable.');
  });

  it('shows who did what, when and from where, and filters by action', async () => {
    const { user, api } = renderApp('/account/audit-log', {
      'GET account/audit-log/': (request) =>
        request.url.searchParams.get('action') === 'payment.webhook_mismatch'
          ? ok(page([entry({ id: 2, actor_email: '', action: 'payment.webhook_mismatch', target: 'INV-2026-000007', ip_address: null })]))
          : ok(page([entry()])),
    });

    const row = (await screen.findByText('new@acme.test')).closest('tr')!;
    expect(within(row).getByText('owner@acme.test')).toBeInTheDocument();
    expect(within(row).getByText('team.invited')).toBeInTheDocument();
    expect(within(row).getByText('192.0.2.7')).toBeInTheDocument();
    expect(within(row).getByText('role: member')).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Action'), 'payment.webhook_mismatch');
    const flagged = (await screen.findByText('INV-2026-000007')).closest('tr')!;
    expect(within(flagged).getByText('System')).toBeInTheDocument();
    expect(api.calls('GET account/audit-log/').at(-1)!.url.searchParams.get('action')).toBe('payment.webhook_mismatch');
    expect(screen.getByTestId('location')).toHaveTextContent('/account/audit-log?type=payment.webhook_mismatch');
  });

  it('is in the navigation for owners and admins only', async () => {
    renderApp('/account/audit-log', { 'GET account/audit-log/': () => ok(page([])) });
    expect(await screen.findByRole('link', { name: 'Audit log' })).toBeInTheDocument();
  });

  it('tells a member it is for owners and admins, without asking the API', async () => {
    const { api } = renderApp('/account/audit-log', { 'GET account/audit-log/': () => ok(page([])) }, { role: 'member' });
    expect(await screen.findByText('Only owners and admins can read the audit log.')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Audit log' })).not.toBeInTheDocument();
    expect(api.calls('GET account/audit-log/')).toHaveLength(0);
  });
});
