import { useMutation, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { authKeys } from './queryKeys';
import { tokenStore } from './tokens';
import type { AuthResult, ChangePasswordInput, ResetPasswordInput, Session } from './types';

export const changePassword = (input: ChangePasswordInput) =>
  fetchAPI<AuthResult>('auth/password/change/', { method: 'POST', body: input });

/** Answers the same whether or not the address has an account. */
export const requestPasswordReset = (email: string) =>
  fetchAPI<{ detail: string }>('auth/password/reset/', { method: 'POST', body: { email }, auth: false });

export const confirmPasswordReset = (input: ResetPasswordInput) =>
  fetchAPI<{ detail: string }>('auth/password/reset/confirm/', { method: 'POST', body: input, auth: false });

/** Every other session ends on the server; this one continues with the tokens the answer carries. */
export function useChangePassword() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: changePassword,
    onSuccess: (result) => {
      tokenStore.set({ access: result.access, refresh: result.refresh });
      queryClient.setQueryData<Session>(authKeys.me, { user: result.user, account: result.account });
    },
  });
}

export const useRequestPasswordReset = () => useMutation({ mutationFn: requestPasswordReset });
export const useConfirmPasswordReset = () => useMutation({ mutationFn: confirmPasswordReset });
