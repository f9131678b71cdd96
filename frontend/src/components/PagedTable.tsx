import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type { Paginated } from '../services/types';
import { DataTable, type Column } from './DataTable';
import { Pagination } from './Pagination';
import { QueryState } from './QueryState';

interface PagedTableProps<T> {
  /** Plural noun for the messages and the table caption: "invoices". */
  what: string;
  query: UseQueryResult<Paginated<T>>;
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  page: number;
  pageSize: number;
  onPage: (page: number) => void;
  empty: ReactNode;
}

/** One page of a paginated list endpoint with its loading, error and empty states and prev/next. */
export function PagedTable<T>({ what, query, columns, rowKey, page, pageSize, onPage, empty }: PagedTableProps<T>) {
  return (
    <QueryState query={query} what={what} isEmpty={(data) => data.results.length === 0} empty={empty}>
      {(data) => (
        <div className={query.isPlaceholderData ? 'is-refreshing' : undefined} aria-busy={query.isFetching}>
          <DataTable caption={what} columns={columns} rows={data.results} rowKey={rowKey} />
          <Pagination label={what} page={page} pageSize={pageSize} count={data.count}
            hasPrevious={Boolean(data.previous)} hasNext={Boolean(data.next)} onPage={onPage} />
        </div>
      )}
    </QueryState>
  );
}
