import { useCallback } from 'react';
import { useCreditCosts } from '../services/billing.api';
import { humanize } from '../lib/format';

/**
 * One name per operation everywhere: the price list's display name ("Content writing"), or the code in
 * words while the price list loads or for an operation it no longer lists.
 */
export function useOperationName(): (operationType: string) => string {
  const costs = useCreditCosts();
  const names = costs.data?.results;
  return useCallback(
    (operationType: string) => names?.find((cost) => cost.operation_type === operationType)?.display_name ?? humanize(operationType),
    [names],
  );
}
