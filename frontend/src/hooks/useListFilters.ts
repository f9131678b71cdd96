import { useSearchParams } from 'react-router-dom';
import type { QueryParams } from '../services/api';

export interface ListFilters {
  type: string;
  from: string; // yyyy-mm-dd, the user's local day
  to: string;
}

const FILTER_KEYS: (keyof ListFilters)[] = ['type', 'from', 'to'];

/** Local day boundaries as UTC instants, so "to 22 Nov" includes all of 22 Nov where the user is. */
const startOfDay = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : undefined);
const endOfDay = (day: string) => (day ? new Date(`${day}T23:59:59.999`).toISOString() : undefined);

/**
 * Page and filters of a ledger list, kept in the URL so reload, back and shared links keep them.
 * `typeParam` is the API's name for the type filter (transaction_type or operation_type).
 */
export function useListFilters(typeParam: string, pageSize: number) {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const filters: ListFilters = { type: params.get('type') ?? '', from: params.get('from') ?? '', to: params.get('to') ?? '' };

  const write = (next: ListFilters, nextPage: number) => {
    const search = new URLSearchParams();
    FILTER_KEYS.forEach((key) => next[key] && search.set(key, next[key]));
    if (nextPage > 1) search.set('page', String(nextPage));
    setParams(search, { replace: true });
  };

  // A From after the To would match nothing and look like an empty history: say so and leave dates out.
  const rangeError = filters.from && filters.to && filters.from > filters.to ? 'The From date must be on or before the To date.' : '';
  const query: QueryParams = {
    page,
    page_size: pageSize,
    [typeParam]: filters.type,
    created_after: rangeError ? undefined : startOfDay(filters.from),
    created_before: rangeError ? undefined : endOfDay(filters.to),
  };

  return {
    page,
    filters,
    query,
    rangeError,
    setPage: (nextPage: number) => write(filters, nextPage),
    // Any filter change starts again from the first page.
    setFilter: (key: keyof ListFilters, value: string) => write({ ...filters, [key]: value }, 1),
    clear: () => write({ type: '', from: '', to: '' }, 1),
    isFiltered: FILTER_KEYS.some((key) => filters[key]),
  };
}
