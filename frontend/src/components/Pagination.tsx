interface PaginationProps {
  page: number;
  pageSize: number;
  count: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPage: (page: number) => void;
  label: string;
}

export function Pagination({ page, pageSize, count, hasPrevious, hasNext, onPage, label }: PaginationProps) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav className="pagination" aria-label={`${label} pages`}>
      <button type="button" className="button secondary" disabled={!hasPrevious} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" className="button secondary" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}
