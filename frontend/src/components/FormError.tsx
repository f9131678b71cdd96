import { ApiError, errorMessage } from '../services/api';

/** The form-level error; field errors are shown next to their fields, so only list the ones no field shows. */
export function FormError({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null;
  const stray =
    error instanceof ApiError
      ? Object.entries(error.fieldErrors).filter(([field]) => !fields.includes(field))
      : [];
  return (
    <div className="alert alert-error" role="alert">
      <p>{errorMessage(error)}</p>
      {stray.length > 0 && (
        <ul>
          {stray.flatMap(([field, messages]) =>
            messages.map((message) => <li key={`${field}-${message}`}>{field === 'non_field_errors' ? message : `${field}: ${message}`}</li>),
          )}
        </ul>
      )}
    </div>
  );
}

export function fieldErrorsOf(error: unknown): Record<string, string[]> {
  return error instanceof ApiError ? error.fieldErrors : {};
}
