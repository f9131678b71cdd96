import { useMutation, useQueryClient } from '@tanstack/react-query';
import { fetchAPI } from './api';
import { authKeys } from './queryKeys';
import type { ProfileUpdate, Session } from './types';

export const updateProfile = (input: ProfileUpdate) =>
  fetchAPI<Session>('auth/me/', { method: 'PATCH', body: input });

export function useUpdateProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateProfile,
    onSuccess: (session) => queryClient.setQueryData<Session>(authKeys.me, session),
  });
}
