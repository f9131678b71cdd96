// Balance alerts (billing/notifications/) and outbound webhooks (webhooks/...).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import type { Paginated } from './types';

export interface NotificationSettings {
  low_balance_threshold: number;
  email_low_balance: boolean;
  email_depleted: boolean;
  email_expiring: boolean;
  expiring_notice_days: number;
}

export interface EventType {
  type: string;
  description: string;
}

export interface AccountEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: string;
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string;
  event_types: string[];
  is_enabled: boolean;
  consecutive_failures: number;
  disabled_reason: string;
  created_at: string;
  updated_at: string;
  /** Only in the answers to create and rotate-secret: shown once. */
  secret?: string;
}

export interface DeliveryAttempt {
  number: number;
  status_code: number | null;
  duration_ms: number;
  error: string;
  created_at: string;
}

export interface Delivery {
  id: number;
  event_id: string;
  event_type: string;
  endpoint_id: number;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  attempt_log: DeliveryAttempt[];
}

export interface EndpointInput {
  url: string;
  description?: string;
  event_types: string[];
}

export const eventKeys = {
  all: ['events'] as const,
  notifications: () => [...eventKeys.all, 'notifications'] as const,
  recent: () => [...eventKeys.all, 'recent'] as const,
  types: () => [...eventKeys.all, 'types'] as const,
  endpoints: () => [...eventKeys.all, 'endpoints'] as const,
  deliveries: (endpointId: number) => [...eventKeys.all, 'deliveries', endpointId] as const,
};

export const getNotificationSettings = () => fetchAPI<NotificationSettings>('billing/notifications/');
export const updateNotificationSettings = (data: Partial<NotificationSettings>) =>
  fetchAPI<NotificationSettings>('billing/notifications/', { method: 'PATCH', body: data });
export const getRecentEvents = () => fetchAPI<Paginated<AccountEvent>>('webhooks/events/', { query: { page_size: 10 } });
export const getEventTypes = () => fetchAPI<EventType[]>('webhooks/event-types/');
export const getEndpoints = () => fetchAPI<Paginated<WebhookEndpoint>>('webhooks/endpoints/', { query: { page_size: 100 } });
export const createEndpoint = (input: EndpointInput) =>
  fetchAPI<WebhookEndpoint>('webhooks/endpoints/', { method: 'POST', body: input });
export const updateEndpoint = ({ id, ...changes }: Partial<WebhookEndpoint> & { id: number }) =>
  fetchAPI<WebhookEndpoint>(`webhooks/endpoints/${id}/`, { method: 'PATCH', body: changes });
export const deleteEndpoint = (id: number) => fetchAPI<null>(`webhooks/endpoints/${id}/`, { method: 'DELETE' });
export const sendTestEvent = (id: number) => fetchAPI<Delivery>(`webhooks/endpoints/${id}/test/`, { method: 'POST' });
export const getDeliveries = (endpointId: number) =>
  fetchAPI<Paginated<Delivery>>('webhooks/deliveries/', { query: { endpoint: endpointId, page_size: 25 } });
export const resendDelivery = (id: number) => fetchAPI<Delivery>(`webhooks/deliveries/${id}/resend/`, { method: 'POST' });

export const useNotificationSettings = () =>
  useQuery(queryOptions({ queryKey: eventKeys.notifications(), queryFn: getNotificationSettings }));
export const useRecentEvents = (enabled: boolean) =>
  useQuery({ queryKey: eventKeys.recent(), queryFn: getRecentEvents, enabled });
export const useEventTypes = () => useQuery({ queryKey: eventKeys.types(), queryFn: getEventTypes, staleTime: Infinity });
export const useEndpoints = () => useQuery({ queryKey: eventKeys.endpoints(), queryFn: getEndpoints });
export const useDeliveries = (endpointId: number) =>
  useQuery({ queryKey: eventKeys.deliveries(endpointId), queryFn: () => getDeliveries(endpointId) });

export function useUpdateNotificationSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateNotificationSettings,
    onSuccess: (settings) => queryClient.setQueryData(eventKeys.notifications(), settings),
  });
}

/** Every webhook change refreshes the endpoints and their delivery logs. */
function useWebhookMutation<TInput, TOutput>(mutationFn: (input: TInput) => Promise<TOutput>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: eventKeys.endpoints() }),
        queryClient.invalidateQueries({ queryKey: [...eventKeys.all, 'deliveries'] }),
      ]),
  });
}

export const useCreateEndpoint = () => useWebhookMutation(createEndpoint);
export const useUpdateEndpoint = () => useWebhookMutation(updateEndpoint);
export const useDeleteEndpoint = () => useWebhookMutation(deleteEndpoint);
export const useSendTestEvent = () => useWebhookMutation(sendTestEvent);
export const useResendDelivery = () => useWebhookMutation(resendDelivery);
