import type { ListFilters } from '../hooks/useListFilters';
import { SelectField, TextField } from './Field';

interface FilterBarProps {
  typeLabel: string;
  typeOptions: { value: string; label: string }[];
  filters: ListFilters;
  onChange: (key: keyof ListFilters, value: string) => void;
  onClear: () => void;
  isFiltered: boolean;
  /** Shown at the To field when the range is backwards. */
  rangeError?: string;
}

export function FilterBar({ typeLabel, typeOptions, filters, onChange, onClear, isFiltered, rangeError }: FilterBarProps) {
  return (
    <form className="filters" role="search" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <SelectField label={typeLabel} value={filters.type} onChange={(e) => onChange('type', e.target.value)}>
        <option value="">All</option>
        {typeOptions.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </SelectField>
      <TextField label="From" type="date" value={filters.from} max={filters.to || undefined}
        onChange={(e) => onChange('from', e.target.value)} />
      <TextField label="To" type="date" value={filters.to} min={filters.from || undefined}
        errors={rangeError ? [rangeError] : undefined} onChange={(e) => onChange('to', e.target.value)} />
      <button type="button" className="button secondary" onClick={onClear} disabled={!isFiltered}>
        Clear filters
      </button>
    </form>
  );
}
