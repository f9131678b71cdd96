import { useSyncExternalStore } from 'react';
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { authKeys } from './queryKeys';
import { tokenStore } from './tokens';
import type { AuthResult, InvitationLookup, LoginInput, Role, Session } from './types';

/** Hand-written: the schema calls the names required, but sign-up takes just these three fields. */
export interface RegisterInput extends LoginInput {
  account_name: string;
}

export const login = (input: LoginInput) =>
  fetchAPI<AuthResult>('auth/login/', { method: 'POST', body: input, auth: false });

export const register = (input: RegisterInput) =>
  fetchAPI<AuthResult>('auth/register/', { method: 'POST', body: input, auth: false });

/** Hand-written: the schema calls the names required, but accepting takes a token and a password. */
export interface AcceptInvitationInput {
  token: string;
  password: string;
  first_name?: string;
  last_name?: string;
}

export const acceptInvitation = (input: AcceptInvitationInput) =>
  fetchAPI<AuthResult>('auth/invitations/accept/', { method: 'POST', body: input, auth: false });

export const lookupInvitation = (token: string) =>
  fetchAPI<InvitationLookup>('auth/invitations/lookup/', { query: { token }, auth: false });

export function useInvitationLookup(token: string) {
  return useQuery({
    queryKey: authKeys.invitation(token),
    queryFn: () => lookupInvitation(token),
    enabled: Boolean(token),
    staleTime: Infinity,
  });
}

export const me = () => fetchAPI<Session>('auth/me/');

export const logout = (refresh: string) => fetchAPI<null>('auth/logout/', { method: 'POST', body: { refresh } });

export const meQuery = () => queryOptions({ queryKey: authKeys.me, queryFn: me, staleTime: 60_000 });

/** True while a token pair is stored; flips to false when fetchAPI gives up on a refresh. */
export function useIsSignedIn(): boolean {
  return useSyncExternalStore(tokenStore.subscribe, () => tokenStore.get() !== null);
}

export function useMe() {
  return useQuery({ ...meQuery(), enabled: useIsSignedIn() });
}

/** The signed-in user's role, undefined until auth/me has answered. */
export function useRole(): Role | undefined {
  return useMe().data?.user.role;
}

function startSession(queryClient: QueryClient, result: AuthResult) {
  // A previous user's cached pages must never show to the next one.
  queryClient.clear();
  tokenStore.set({ access: result.access, refresh: result.refresh });
  queryClient.setQueryData<Session>(authKeys.me, { user: result.user, account: result.account });
}

export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: login, onSuccess: (result) => startSession(queryClient, result) });
}

export function useRegister() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: register, onSuccess: (result) => startSession(queryClient, result) });
}

export function useAcceptInvitation() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: acceptInvitation, onSuccess: (result) => startSession(queryClient, result) });
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const refresh = tokenStore.get()?.refresh;
      // Blacklisting the refresh token is best effort: signing out locally must work offline too.
      if (refresh) await logout(refresh).catch(() => undefined);
    },
    onSettled: () => {
      tokenStore.clear();
      queryClient.clear();
    },
  });
}
