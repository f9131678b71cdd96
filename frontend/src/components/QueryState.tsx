import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { errorMessage } from '../services/api';

interface QueryStateProps<T> {
  query: UseQueryResult<T>;
  /** What is loading, for the messages: "invoices". */
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}

/** The loading, error and empty states every data view needs, in one place. */
export function QueryState<T>({ query, what, isEmpty, empty, children }: QueryStateProps<T>) {
  if (query.isPending) {
    return (
      <p className="state state-loading" role="status">
        Loading {what}…
      </p>
    );
  }
  if (query.isError) {
    return (
      <div className="state state-error" role="alert">
        <p>
          Could not load {what}: {errorMessage(query.error)}
        </p>
        <button type="button" className="button secondary" onClick={() => query.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  if (isEmpty?.(query.data)) {
    return <div className="state state-empty">{empty ?? <p>No {what} yet.</p>}</div>;
  }
  return <>{children(query.data)}</>;
}
