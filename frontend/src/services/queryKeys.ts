// Every query key in one place, nested so one prefix invalidates a whole family
// (a purchase invalidates everything under billingKeys.all).
import type { QueryParams } from './api';

export const authKeys = {
  me: ['auth', 'me'] as const,
  invitation: (token: string) => ['auth', 'invitation', token] as const,
};

export const billingKeys = {
  all: ['billing'] as const,
  balance: () => [...billingKeys.all, 'balance'] as const,
  transactions: (params: QueryParams) => [...billingKeys.all, 'transactions', params] as const,
  usageLogs: (params: QueryParams) => [...billingKeys.all, 'usage-logs', params] as const,
  creditCosts: () => [...billingKeys.all, 'credit-costs'] as const,
  invoices: (params: QueryParams) => [...billingKeys.all, 'invoices', params] as const,
  invoice: (id: number) => [...billingKeys.all, 'invoice', id] as const,
  payments: (params: QueryParams) => [...billingKeys.all, 'payments', params] as const,
  holds: () => [...billingKeys.all, 'holds'] as const,
  paymentMethods: () => [...billingKeys.all, 'payment-methods'] as const,
  packages: () => [...billingKeys.all, 'packages'] as const,
};

export const accountKeys = {
  all: ['account'] as const,
  settings: () => [...accountKeys.all, 'settings'] as const,
  team: () => [...accountKeys.all, 'team'] as const,
  invitations: () => [...accountKeys.all, 'invitations'] as const,
  analytics: (period: object) => [...accountKeys.all, 'analytics', period] as const,
  auditLog: (params: QueryParams) => [...accountKeys.all, 'audit-log', params] as const,
};

export const apiKeyKeys = {
  all: [...accountKeys.all, 'api-keys'] as const,
  list: () => [...apiKeyKeys.all, 'list'] as const,
  memberCaps: (memberId: number) => [...accountKeys.all, 'member-caps', memberId] as const,
};

export const eventKeys = {
  all: ['events'] as const,
  notifications: () => [...eventKeys.all, 'notifications'] as const,
  recent: () => [...eventKeys.all, 'recent'] as const,
  types: () => [...eventKeys.all, 'types'] as const,
  endpoints: () => [...eventKeys.all, 'endpoints'] as const,
  deliveries: (endpointId: number) => [...eventKeys.all, 'deliveries', endpointId] as const,
};
