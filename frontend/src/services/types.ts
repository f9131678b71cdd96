// Shapes of the API's `data`, field names exactly as docs/api-contract.md spells them.
// Money is a decimal string ("9.00"); credits are integers; times are ISO 8601 UTC.

export interface Paginated<T> {
  results: T[];
  count: number;
  next: string | null;
  previous: string | null;
}

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface User {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  is_active: boolean;
  is_staff: boolean;
  date_joined: string;
  last_login: string | null;
}

export interface Plan {
  id: number;
  name: string;
  slug: string;
  credits_per_month: number;
  max_users: number;
  price_monthly: string;
}

export interface Account {
  id: number;
  name: string;
  slug: string;
  billing_email: string;
  billing_address_line1: string;
  billing_address_line2: string;
  billing_city: string;
  billing_state: string;
  billing_postal_code: string;
  billing_country: string;
  tax_id: string;
  credit_balance: number;
  plan: Plan | null;
  created_at: string;
  updated_at: string;
}

export type AccountSettingsUpdate = Partial<
  Pick<
    Account,
    | 'name'
    | 'billing_email'
    | 'billing_address_line1'
    | 'billing_address_line2'
    | 'billing_city'
    | 'billing_state'
    | 'billing_postal_code'
    | 'billing_country'
    | 'tax_id'
  >
>;

export interface Session {
  user: User;
  account: Account;
}

export interface AuthResult extends Session {
  access: string;
  refresh: string;
}

export type CreditSource = 'plan' | 'purchase' | 'promotion' | 'adjustment' | 'rollover';

/** The newer fields are optional: the page renders whatever the running backend sends. */
export interface CreditBalance {
  credits: number;
  plan_credits_per_month: number;
  credits_used_this_month: number;
  /** credits minus what running jobs hold */
  credits_remaining: number;
  held?: number;
  breakdown?: { source: CreditSource; credits: number }[];
  next_expiry?: { credits: number; expires_at: string } | null;
  plan_name?: string | null;
  next_grant_at?: string | null;
  /** The account's own low-balance threshold, when it has set one. */
  low_balance_threshold?: number | null;
}

export type HoldStatus = 'active' | 'settled' | 'released' | 'expired';

export interface CreditHold {
  id: number;
  operation_type: string;
  reference_id: string;
  credits: number;
  settled: number;
  remaining: number;
  status: HoldStatus;
  expires_at: string;
  created_at: string;
  closed_at: string | null;
}

/** An invitation neither accepted nor revoked (`account/invitations/`, owners and admins). */
export interface Invitation {
  id: number;
  email: string;
  role: Role;
  status: 'pending' | 'expired';
  invited_by_email: string;
  created_at: string;
  expires_at: string;
}

export interface InvitationLookup {
  account_name: string;
  invited_by: string;
  email: string;
  role: Role;
  expires_at: string;
}

export const TRANSACTION_TYPES = ['grant', 'subscription', 'purchase', 'deduction', 'refund', 'adjustment'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export interface CreditTransaction {
  id: number;
  amount: number;
  transaction_type: TransactionType;
  description: string;
  reference: string;
  created_at: string;
  balance_after: number;
}

export interface UsageLog {
  id: number;
  operation_type: string;
  credits_used: number;
  /** Always a decimal string; "0.0000" with cost_reported=false when the caller reported no cost. */
  cost_usd: string;
  cost_reported: boolean;
  model: string;
  tokens_input: number | null;
  tokens_output: number | null;
  reference_id: string;
  created_at: string;
}

export interface CreditCost {
  operation_type: string;
  display_name: string;
  credits_per_unit: number;
  unit: string;
  is_active: boolean;
}

export interface CreditPackage {
  id: number;
  name: string;
  slug: string;
  credits: number;
  price: string;
  currency: string;
  description: string;
  is_active: boolean;
  is_featured: boolean;
  sort_order: number;
}

export type PaymentMethodCode = 'stripe' | 'bank_transfer' | 'sandbox';

export interface PaymentMethod {
  payment_method: PaymentMethodCode;
  display_name: string;
  is_enabled: boolean;
  instructions: string;
  sort_order: number;
}

export type InvoiceStatus = 'draft' | 'pending' | 'paid' | 'void' | 'refunded';

export interface InvoiceLineItem {
  description: string;
  quantity: number;
  unit_price: string;
  amount: string;
}

export interface Invoice {
  id: number;
  invoice_number: string;
  status: InvoiceStatus;
  subtotal: string;
  tax_amount: string;
  total_amount: string;
  currency: string;
  line_items: InvoiceLineItem[];
  billing_details: unknown;
  due_date: string | null;
  paid_at: string | null;
  created_at: string;
  pdf_url: string | null;
}

export type PaymentStatus = 'pending' | 'pending_approval' | 'processing' | 'succeeded' | 'failed' | 'refunded';

export interface Payment {
  id: number;
  invoice: number;
  invoice_number: string;
  amount: string;
  currency: string;
  status: PaymentStatus;
  payment_method: PaymentMethodCode;
  provider_reference: string;
  transfer_reference: string;
  failure_reason: string;
  /** Bank transfers: the code the transfer must quote, where to send it and until when. */
  reference_code?: string;
  instructions?: string;
  expires_at?: string | null;
  created_at: string;
  approved_at: string | null;
}

export type NextAction =
  | { type: 'completed' }
  | { type: 'redirect'; url: string }
  | { type: 'bank_transfer'; reference: string; instructions: string; amount: string; currency: string };

export interface PurchaseResult {
  invoice: Invoice;
  payment: Payment;
  next_action: NextAction;
}

export interface UsageAnalytics {
  period_days: number;
  start?: string;
  end?: string;
  current_balance: number;
  usage_by_type: { transaction_type: TransactionType; total: number; count: number }[];
  daily_usage: { date: string; usage: number; purchases: number; grants?: number; net: number }[];
  total_usage: number;
  total_purchases: number;
  total_grants?: number;
  usage_by_operation: { operation_type: string; credits: number; count: number; cost_usd: string | null }[];
}
