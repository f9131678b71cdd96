import { useMutation, useQuery } from '@tanstack/react-query';
import { apiUrl, authorizedFetch, fetchAPI, toApiError, type QueryParams } from './api';
import { accountKeys } from './queryKeys';
import type { AuditLogEntry, Paginated } from './types';

export type { AuditLogEntry } from './types';

/** What the list export endpoints take: the list's filters, without its page. */
export function exportParams(query: QueryParams): QueryParams {
  const { page: _page, page_size: _pageSize, ...filters } = query;
  return filters;
}

/**
 * The CSV endpoints need the bearer header, so a plain link cannot open them: fetch the file and hand the
 * browser a blob URL. The server streams it; the browser saves it under `filename`.
 */
export async function downloadCsv({ path, query, filename }: { path: string; query: QueryParams; filename: string }) {
  const response = await authorizedFetch(apiUrl(path, exportParams(query)), { headers: { Accept: 'text/csv' } });
  if (!response.ok) throw await toApiError(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser needs the URL until the download has started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `mutate({ path, query, filename })` downloads one CSV export. */
export const useDownloadCsv = () => useMutation({ mutationFn: downloadCsv });

export const getAuditLog = (params: QueryParams = {}) =>
  fetchAPI<Paginated<AuditLogEntry>>('account/audit-log/', { query: params });

export const useAuditLog = (params: QueryParams, enabled = true) =>
  useQuery({ queryKey: accountKeys.auditLog(params), queryFn: () => getAuditLog(params), placeholderData: (prev) => prev, enabled });
