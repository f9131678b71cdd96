import type { QueryParams } from '../services/api';
import { errorMessage } from '../services/api';
import { useDownloadCsv } from '../services/exports.api';

interface DownloadCsvButtonProps {
  /** The export endpoint, e.g. "billing/transactions/export/". */
  path: string;
  /** The list's query: its filters go along, its page does not. */
  query: QueryParams;
  /** Plural noun for the label and the file name: "transactions". */
  what: string;
}

/** Downloads every row matching the filters on screen as CSV (the server streams it). */
export function DownloadCsvButton({ path, query, what }: DownloadCsvButtonProps) {
  const download = useDownloadCsv();
  const filename = `${what.replace(/\s+/g, '-')}-${new Date().toISOString().slice(0, 10)}.csv`;
  return (
    <div className="download-csv">
      <button
        type="button"
        className="button secondary small"
        onClick={() => download.mutate({ path, query, filename })}
        disabled={download.isPending}
        aria-label={`Download ${what} as CSV`}
      >
        {download.isPending ? 'Preparing…' : 'Download CSV'}
      </button>
      {download.isError && (
        <span className="inline-error" role="alert">
          Could not download {what}: {errorMessage(download.error)}
        </span>
      )}
    </div>
  );
}
