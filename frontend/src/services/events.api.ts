// Balance alerts (billing/notifications/) and outbound webhooks (webhooks/...).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { eventKeys } from './queryKeys';
import type {
  AccountEvent,
  Delivery,
  EventType,
  NotificationSettings,
  NotificationSettingsUpdate,
  Paginated,
  WebhookEndpoint,
} from './types';

export type { AccountEvent, Delivery, DeliveryAttempt, EventType, NotificationSettings, WebhookEndpoint } from './types';


export interface EndpointInput {
  url: string;
  description?: string;
  event_types: string[];
}

export const getNotificationSettings = () => fetchAPI<NotificationSettings>('billing/notifications/');
export const updateNotificationSettings = (data: NotificationSettingsUpdate) =>
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
