// API keys of the account and members' spending caps (`account/api-keys/`, `account/team/{id}/spending-caps/`).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { apiKeyKeys } from './queryKeys';
import type { ApiKey, ApiKeyInput, ApiKeyScope, ApiKeyUpdate, CreatedApiKey, MemberCaps, Paginated } from './types';

export type { ApiKey, ApiKeyInput, ApiKeyScope, ApiKeyUpdate, CreatedApiKey, MemberCaps } from './types';

export const API_KEY_SCOPES: { scope: ApiKeyScope; label: string }[] = [
  { scope: 'usage:write', label: 'Meter usage and hold credits (usage:write)' },
  { scope: 'billing:read', label: 'Read balance, transactions and usage (billing:read)' },
];

export const getApiKeys = () => fetchAPI<Paginated<ApiKey>>('account/api-keys/', { query: { page_size: 100 } });
export const createApiKey = (input: ApiKeyInput) =>
  fetchAPI<CreatedApiKey>('account/api-keys/', { method: 'POST', body: input });
export const updateApiKey = ({ id, ...changes }: ApiKeyUpdate & { id: number }) =>
  fetchAPI<ApiKey>(`account/api-keys/${id}/`, { method: 'PATCH', body: changes });
export const revokeApiKey = (id: number) => fetchAPI<ApiKey>(`account/api-keys/${id}/`, { method: 'DELETE' });

export const getMemberCaps = (memberId: number) => fetchAPI<MemberCaps>(`account/team/${memberId}/spending-caps/`);
export const setMemberCaps = ({ member_id, daily_credit_cap, monthly_credit_cap }: Omit<MemberCaps, 'spent_today' | 'spent_this_month'>) =>
  fetchAPI<MemberCaps>(`account/team/${member_id}/spending-caps/`, {
    method: 'PUT',
    body: { daily_credit_cap, monthly_credit_cap },
  });

export const apiKeysQuery = () => queryOptions({ queryKey: apiKeyKeys.list(), queryFn: getApiKeys });
export const memberCapsQuery = (memberId: number) =>
  queryOptions({ queryKey: apiKeyKeys.memberCaps(memberId), queryFn: () => getMemberCaps(memberId) });

export const useApiKeys = (enabled = true) => useQuery({ ...apiKeysQuery(), enabled });
export const useMemberCaps = (memberId: number | null) =>
  useQuery({ ...memberCapsQuery(memberId ?? 0), enabled: memberId !== null });

function useKeyMutation<TInput, TOutput>(mutationFn: (input: TInput) => Promise<TOutput>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn, onSuccess: () => queryClient.invalidateQueries({ queryKey: apiKeyKeys.all }) });
}

export const useCreateApiKey = () => useKeyMutation(createApiKey);
export const useUpdateApiKey = () => useKeyMutation(updateApiKey);
export const useRevokeApiKey = () => useKeyMutation(revokeApiKey);

export function useSetMemberCaps() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: setMemberCaps,
    onSuccess: (caps) => queryClient.setQueryData(apiKeyKeys.memberCaps(caps.member_id), caps),
  });
}

/** "" (no cap) or a whole number of credits, from a number input. */
export const capFromInput = (value: string): number | null => (value.trim() === '' ? null : Number(value));
