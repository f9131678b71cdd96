import { useCallback } from 'react';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiUrl, authorizedFetch, fetchAPI, toApiError, type QueryParams } from './api';
import { accountKeys, authKeys, billingKeys } from './queryKeys';
import type {
  CreditBalance,
  CreditCost,
  CreditHold,
  CreditPackage,
  CreditTransaction,
  Invoice,
  Paginated,
  Payment,
  PaymentMethod,
  PaymentMethodCode,
  PurchaseResult,
  UsageLog,
} from './types';

export const getCreditBalance = () => fetchAPI<CreditBalance>('billing/credits/balance/balance/');
export const getTransactions = (params: QueryParams = {}) =>
  fetchAPI<Paginated<CreditTransaction>>('billing/transactions/', { query: params });
export const getUsageLogs = (params: QueryParams = {}) =>
  fetchAPI<Paginated<UsageLog>>('billing/credits/usage/', { query: params });
export const getCreditCosts = () =>
  fetchAPI<Paginated<CreditCost>>('billing/credit-costs/', { query: { page_size: 100 } });
export const getInvoices = (params: QueryParams = {}) =>
  fetchAPI<Paginated<Invoice>>('billing/invoices/', { query: params });
export const getInvoice = (id: number) => fetchAPI<Invoice>(`billing/invoices/${id}/`);
export const getPayments = (params: QueryParams = {}) =>
  fetchAPI<Paginated<Payment>>('billing/payments/', { query: params });
export const getPaymentMethods = () =>
  fetchAPI<Paginated<PaymentMethod>>('billing/payment-methods/', { query: { page_size: 100 } });
export const getActiveHolds = () =>
  fetchAPI<Paginated<CreditHold>>('billing/credits/holds/', { query: { status: 'active', page_size: 100 } });
export const getCreditPackages = () =>
  fetchAPI<Paginated<CreditPackage>>('billing/credit-packages/', { query: { page_size: 100 } });

export const purchaseCreditPackage = ({ packageId, paymentMethod }: { packageId: number; paymentMethod: PaymentMethodCode }) =>
  fetchAPI<PurchaseResult>(`billing/credit-packages/${packageId}/purchase/`, {
    method: 'POST',
    body: { payment_method: paymentMethod },
    // One key per click: if this request reaches the server twice (a proxy or browser retry), the server
    // replays the first answer instead of buying twice. A new click is a new attempt with a new key.
    headers: { 'Idempotency-Key': crypto.randomUUID() },
  });

export const confirmBankTransfer = ({ paymentId, transferReference }: { paymentId: number; transferReference: string }) =>
  fetchAPI<Payment>(`billing/payments/${paymentId}/confirm/`, {
    method: 'POST',
    body: { transfer_reference: transferReference },
  });

export const cancelBankTransfer = (paymentId: number) =>
  fetchAPI<Payment>(`billing/payments/${paymentId}/cancel/`, { method: 'POST' });

/** The PDF endpoint needs the bearer header, so a plain link cannot open it: fetch it and hand over a blob URL. */
export async function downloadInvoicePdf(invoice: Pick<Invoice, 'id' | 'invoice_number'>): Promise<void> {
  const response = await authorizedFetch(apiUrl(`billing/invoices/${invoice.id}/pdf/`), {
    headers: { Accept: 'application/pdf' },
  });
  if (!response.ok) throw await toApiError(response);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `${invoice.invoice_number}.pdf`;
  link.target = '_blank';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The browser needs the URL until the download has started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `mutate(invoice)` downloads the invoice's PDF. */
export const useDownloadInvoicePdf = () => useMutation({ mutationFn: downloadInvoicePdf });

export const creditBalanceQuery = () => queryOptions({ queryKey: billingKeys.balance(), queryFn: getCreditBalance });
export const transactionsQuery = (params: QueryParams) =>
  queryOptions({ queryKey: billingKeys.transactions(params), queryFn: () => getTransactions(params) });
export const usageLogsQuery = (params: QueryParams) =>
  queryOptions({ queryKey: billingKeys.usageLogs(params), queryFn: () => getUsageLogs(params) });
export const creditCostsQuery = () =>
  queryOptions({ queryKey: billingKeys.creditCosts(), queryFn: getCreditCosts, staleTime: 5 * 60_000 });
export const invoicesQuery = (params: QueryParams) =>
  queryOptions({ queryKey: billingKeys.invoices(params), queryFn: () => getInvoices(params) });
export const paymentsQuery = (params: QueryParams) =>
  queryOptions({ queryKey: billingKeys.payments(params), queryFn: () => getPayments(params) });
export const paymentMethodsQuery = () =>
  queryOptions({ queryKey: billingKeys.paymentMethods(), queryFn: getPaymentMethods, staleTime: 5 * 60_000 });
export const creditPackagesQuery = () =>
  queryOptions({ queryKey: billingKeys.packages(), queryFn: getCreditPackages, staleTime: 5 * 60_000 });

export const useCreditBalance = () => useQuery(creditBalanceQuery());
/** Credits held by running jobs; a backend without holds answers 404, which reads as none. */
export const useActiveHolds = () =>
  useQuery({ queryKey: billingKeys.holds(), queryFn: getActiveHolds, retry: false });
export const useTransactions = (params: QueryParams) => useQuery({ ...transactionsQuery(params), placeholderData: (prev) => prev });
export const useUsageLogs = (params: QueryParams) => useQuery({ ...usageLogsQuery(params), placeholderData: (prev) => prev });
export const useCreditCosts = () => useQuery(creditCostsQuery());
export const useInvoices = (params: QueryParams) => useQuery({ ...invoicesQuery(params), placeholderData: (prev) => prev });
export const usePayments = (params: QueryParams) => useQuery({ ...paymentsQuery(params), placeholderData: (prev) => prev });
export const usePaymentMethods = () => useQuery(paymentMethodsQuery());
export const useCreditPackages = () => useQuery(creditPackagesQuery());

/** A callback that marks every billing view (balance, ledger, invoices, payments) stale. */
export function useInvalidateBilling() {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.invalidateQueries({ queryKey: billingKeys.all }), [queryClient]);
}

/** Anything that moves credits or money makes every balance, ledger and invoice view stale. */
function useInvalidateMoney() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: billingKeys.all }),
      queryClient.invalidateQueries({ queryKey: accountKeys.all }),
      queryClient.invalidateQueries({ queryKey: authKeys.me }),
    ]);
}

/** Polls an invoice while it is pending: after Stripe Checkout, the webhook pays it a moment later. */
export function useInvoiceUntilSettled(id: number | undefined) {
  return useQuery({
    queryKey: billingKeys.invoice(id ?? 0),
    queryFn: () => getInvoice(id as number),
    enabled: id !== undefined,
    refetchInterval: (query) => (query.state.data?.status === 'pending' ? 2000 : false),
  });
}

export function usePurchaseCreditPackage() {
  const invalidate = useInvalidateMoney();
  return useMutation({ mutationFn: purchaseCreditPackage, onSuccess: invalidate });
}

export function useConfirmBankTransfer() {
  const invalidate = useInvalidateMoney();
  return useMutation({ mutationFn: confirmBankTransfer, onSuccess: invalidate });
}

export function useCancelBankTransfer() {
  const invalidate = useInvalidateMoney();
  return useMutation({ mutationFn: cancelBankTransfer, onSuccess: invalidate });
}
