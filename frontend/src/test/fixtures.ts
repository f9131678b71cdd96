// Objects shaped exactly like the API contract's, for tests only.
import type {
  Account, CreditBalance, CreditHold, CreditPackage, CreditTransaction, Invoice, Payment, PaymentMethod, Role,
  UsageAnalytics, UsageLog, User,
} from '../services/types';

export const account: Account = {
  id: 1,
  name: 'Acme Research',
  slug: 'acme-research',
  billing_email: 'billing@acme.test',
  billing_address_line1: '1 Main St',
  billing_address_line2: '',
  billing_city: 'Springfield',
  billing_state: '',
  billing_postal_code: '12345',
  billing_country: 'US',
  tax_id: '',
  credit_balance: 1500,
  plan: { id: 1, name: 'Starter', slug: 'starter', credits_per_month: 1000, max_users: 5, price_monthly: '29.00' },
  created_at: '2026-11-01T10:00:00Z',
  updated_at: '2026-11-01T10:00:00Z',
};

export const user = (overrides: Partial<User> = {}): User => ({
  id: 1,
  email: 'owner@acme.test',
  first_name: 'Olive',
  last_name: 'Owner',
  role: 'owner',
  is_active: true,
  is_staff: false,
  date_joined: '2026-11-01T10:00:00Z',
  last_login: '2026-11-22T09:00:00Z',
  ...overrides,
});

export const session = (role: Role = 'owner') => ({ user: user({ role }), account });

/**
 * The balance as the original backend sends it: no holds, plan name or grant date. Fewer fields than the
 * schema has, on purpose: the pages must still render an older backend's answer.
 */
export const balance = {
  credits: 1500,
  plan_credits_per_month: 1000,
  credits_used_this_month: 250,
  credits_remaining: 1500,
} as CreditBalance;

/** The balance with every field the ledger work adds. */
export const fullBalance = (overrides: Partial<CreditBalance> = {}): CreditBalance => ({
  credits: 1500,
  plan_credits_per_month: 1000,
  credits_used_this_month: 250,
  credits_remaining: 1380,
  held: 120,
  breakdown: [
    { source: 'plan', credits: 1000 },
    { source: 'purchase', credits: 500 },
  ],
  next_expiry: { credits: 300, expires_at: '2026-12-31T00:00:00Z' },
  plan_name: 'Growth',
  next_grant_at: '2027-01-01T00:00:00Z',
  ...overrides,
});

export const hold = (overrides: Partial<CreditHold> = {}): CreditHold => ({
  id: 5,
  operation_type: 'content_generation',
  reference_id: 'job-77',
  credits: 120,
  settled: 0,
  remaining: 120,
  status: 'active',
  expires_at: '2026-12-02T12:00:00Z',
  created_at: '2026-12-02T11:00:00Z',
  closed_at: null,
  ...overrides,
});

export const creditCosts = () => [
  { operation_type: 'content_generation', display_name: 'Content writing', credits_per_unit: 25, unit: 'article', is_active: true },
  { operation_type: 'clustering', display_name: 'Keyword clustering', credits_per_unit: 10, unit: 'request', is_active: true },
  { operation_type: 'linking', display_name: 'Internal linking', credits_per_unit: 3, unit: 'page', is_active: true },
];

export const pendingTransfer = (overrides: Partial<Payment> = {}): Payment =>
  payment({
    id: 9,
    invoice: 12,
    invoice_number: 'INV-2026-000012',
    amount: '29.00',
    status: 'pending_approval',
    payment_method: 'bank_transfer',
    provider_reference: 'CD-ABCD2345',
    reference_code: 'CD-ABCD2345',
    instructions: 'Pay to Demo Bank\nIBAN DE00 1234 5678',
    expires_at: '2026-12-16T10:00:00Z',
    approved_at: null,
    ...overrides,
  });

export const invoice = (overrides: Partial<Invoice> = {}): Invoice => ({
  id: 7,
  invoice_number: 'INV-2026-000007',
  status: 'paid',
  subtotal: '9.00',
  tax_amount: '0.00',
  total_amount: '9.00',
  currency: 'USD',
  line_items: [{ description: 'Starter Pack', quantity: 1, unit_price: '9.00', amount: '9.00' }],
  billing_details: {},
  due_date: null,
  paid_at: '2026-11-20T12:00:00Z',
  created_at: '2026-11-20T12:00:00Z',
  pdf_url: '/api/v1/billing/invoices/7/pdf/',
  ...overrides,
});

export const payment = (overrides: Partial<Payment> = {}): Payment => ({
  id: 3,
  invoice: 7,
  invoice_number: 'INV-2026-000007',
  amount: '9.00',
  currency: 'USD',
  status: 'succeeded',
  payment_method: 'sandbox',
  provider_reference: '',
  transfer_reference: '',
  failure_reason: '',
  reference_code: '',
  instructions: '',
  expires_at: null,
  created_at: '2026-11-20T12:00:00Z',
  approved_at: '2026-11-20T12:00:00Z',
  ...overrides,
});

export const transaction = (overrides: Partial<CreditTransaction> = {}): CreditTransaction => ({
  id: 11,
  amount: 500,
  transaction_type: 'purchase',
  description: 'Starter Pack',
  reference: 'INV-2026-000007',
  created_at: '2026-11-20T12:00:00Z',
  balance_after: 1500,
  ...overrides,
});

export const usageLog = (overrides: Partial<UsageLog> = {}): UsageLog => ({
  id: 21,
  operation_type: 'clustering',
  units: 1,
  credits_used: 10,
  units_reversed: 0,
  credits_reversed: 0,
  cost_usd: '0.10',
  cost_reported: true,
  model: 'gpt-x',
  tokens_input: 1200,
  tokens_output: 300,
  reference_id: 'job-42',
  created_at: '2026-11-21T08:30:00Z',
  ...overrides,
});

export const creditPackage = (overrides: Partial<CreditPackage> = {}): CreditPackage => ({
  id: 1,
  name: 'Starter Pack',
  slug: 'starter-pack',
  credits: 500,
  price: '9.00',
  currency: 'USD',
  description: 'For trying things out',
  is_active: true,
  is_featured: false,
  sort_order: 1,
  ...overrides,
});

export const paymentMethod = (overrides: Partial<PaymentMethod> = {}): PaymentMethod => ({
  payment_method: 'sandbox',
  display_name: 'Sandbox (test)',
  is_enabled: true,
  instructions: '',
  sort_order: 1,
  ...overrides,
});

/** An older backend's analytics: no custom range and no grants, which the page must still chart. */
export const analytics = (overrides: Partial<UsageAnalytics> = {}): UsageAnalytics => ({
  period_days: 30,
  current_balance: 1490,
  usage_by_type: [
    { transaction_type: 'purchase', total: 500, count: 1 },
    { transaction_type: 'deduction', total: -10, count: 1 },
  ],
  daily_usage: [
    { date: '2026-11-20', usage: 0, purchases: 500, net: 500 },
    { date: '2026-11-21', usage: 10, purchases: 0, net: -10 },
  ],
  total_usage: 10,
  total_purchases: 500,
  usage_by_operation: [{ operation_type: 'clustering', credits: 10, count: 1, cost_usd: '0.10' }],
  ...overrides,
}) as UsageAnalytics;
