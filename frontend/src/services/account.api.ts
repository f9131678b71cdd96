import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { accountKeys, authKeys } from './queryKeys';
import type { Account, AccountSettingsUpdate, Invitation, Paginated, Role, UsageAnalytics, User } from './types';

export interface InviteInput {
  email: string;
  role: Role;
  first_name?: string;
  last_name?: string;
}

export const getAccountSettings = () => fetchAPI<Account>('account/settings/');
export const updateAccountSettings = (data: AccountSettingsUpdate) =>
  fetchAPI<Account>('account/settings/', { method: 'PATCH', body: data });

export const getTeamMembers = () => fetchAPI<Paginated<User>>('account/team/', { query: { page_size: 100 } });
export const getInvitations = () =>
  fetchAPI<Paginated<Invitation>>('account/invitations/', { query: { page_size: 100 } });
export const inviteTeamMember = (input: InviteInput) =>
  fetchAPI<Invitation>('account/team/', { method: 'POST', body: input });
export const updateTeamMemberRole = ({ id, role }: { id: number; role: Role }) =>
  fetchAPI<User>(`account/team/${id}/`, { method: 'PATCH', body: { role } });
export const removeTeamMember = (id: number) => fetchAPI<null>(`account/team/${id}/`, { method: 'DELETE' });

export const resendInvitation = (id: number) =>
  fetchAPI<unknown>(`account/invitations/${id}/resend/`, { method: 'POST' });
export const revokeInvitation = (id: number) => fetchAPI<null>(`account/invitations/${id}/`, { method: 'DELETE' });

/** The last `days` days, or a custom UTC range: both `start` and `end` (yyyy-mm-dd). */
export type AnalyticsPeriod = { days: number } | { start: string; end: string };

export const getUsageAnalytics = (period: AnalyticsPeriod) =>
  fetchAPI<UsageAnalytics>('account/usage/analytics/', { query: { ...period } });

export const accountSettingsQuery = () => queryOptions({ queryKey: accountKeys.settings(), queryFn: getAccountSettings });
export const teamMembersQuery = () => queryOptions({ queryKey: accountKeys.team(), queryFn: getTeamMembers });
export const usageAnalyticsQuery = (period: AnalyticsPeriod) =>
  queryOptions({ queryKey: accountKeys.analytics(period), queryFn: () => getUsageAnalytics(period) });

export const useAccountSettings = () => useQuery(accountSettingsQuery());
// Someone may join or leave at any moment: the team page always asks again when it opens.
export const useTeamMembers = () => useQuery({ ...teamMembersQuery(), staleTime: 0 });
/** Pending invitations: only owners and admins may list them. */
export const useInvitations = (enabled: boolean) =>
  useQuery({ queryKey: accountKeys.invitations(), queryFn: getInvitations, enabled, staleTime: 0 });
export const useUsageAnalytics = (period: AnalyticsPeriod) =>
  useQuery({ ...usageAnalyticsQuery(period), placeholderData: (prev) => prev });

export function useUpdateAccountSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateAccountSettings,
    onSuccess: (account) => {
      queryClient.setQueryData(accountKeys.settings(), account);
      // The app shell shows the account name from auth/me.
      return queryClient.invalidateQueries({ queryKey: authKeys.me });
    },
  });
}

function useTeamMutation<TInput, TOutput>(mutationFn: (input: TInput) => Promise<TOutput>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    // An invitation or a removal changes both lists (and the seats they add up to).
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: accountKeys.team() }),
        queryClient.invalidateQueries({ queryKey: accountKeys.invitations() }),
      ]),
  });
}

export const useInviteTeamMember = () => useTeamMutation(inviteTeamMember);
export const useUpdateTeamMemberRole = () => useTeamMutation(updateTeamMemberRole);
export const useRemoveTeamMember = () => useTeamMutation(removeTeamMember);
export const useResendInvitation = () => useTeamMutation(resendInvitation);
export const useRevokeInvitation = () => useTeamMutation(revokeInvitation);
