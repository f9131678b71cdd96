// Auto top-up (billing/auto-top-up/): the rule, the saved card, and starting a card setup.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';

export interface AutoTopUpCard {
  provider: 'stripe' | 'sandbox';
  brand: string;
  last4: string;
  saved_at: string;
}

export interface AutoTopUp {
  is_enabled: boolean;
  status: 'active' | 'paused' | 'disabled' | 'no_card';
  threshold: number;
  package_id: number | null;
  package: { id: number; name: string; credits: number; price: string; currency: string } | null;
  max_per_month: number | null;
  max_amount_per_month: string | null;
  paused_reason: string;
  paused_at: string | null;
  card: AutoTopUpCard | null;
  card_methods: string[];
  this_month: { count: number; amount: string; currency: string };
}

export type AutoTopUpInput = Partial<
  Pick<AutoTopUp, 'is_enabled' | 'threshold' | 'package_id' | 'max_per_month' | 'max_amount_per_month'>
>;

export interface CardSetupResult {
  next_action: { type: 'redirect'; url: string } | { type: 'completed' };
  auto_top_up: AutoTopUp;
}

export const autoTopUpKeys = {
  all: ['auto-top-up'] as const,
};

export const getAutoTopUp = () => fetchAPI<AutoTopUp>('billing/auto-top-up/');
export const updateAutoTopUp = (data: AutoTopUpInput) =>
  fetchAPI<AutoTopUp>('billing/auto-top-up/', { method: 'PUT', body: data });
export const startCardSetup = (paymentMethod?: string) =>
  fetchAPI<CardSetupResult>('billing/auto-top-up/card/', {
    method: 'POST',
    body: paymentMethod ? { payment_method: paymentMethod } : {},
  });

export const useAutoTopUp = () => useQuery(queryOptions({ queryKey: autoTopUpKeys.all, queryFn: getAutoTopUp }));

export function useUpdateAutoTopUp() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateAutoTopUp,
    onSuccess: (rule) => queryClient.setQueryData(autoTopUpKeys.all, rule),
  });
}

/** Stripe answers with Checkout's URL (the browser goes there); the sandbox saves its card at once. */
export function useStartCardSetup() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: startCardSetup,
    onSuccess: (result) => {
      queryClient.setQueryData(autoTopUpKeys.all, result.auto_top_up);
      if (result.next_action.type === 'redirect') window.location.assign(result.next_action.url);
    },
  });
}
