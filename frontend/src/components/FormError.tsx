import { fieldLabel } from '../lib/fieldLabels';
import { ApiError, errorMessage } from '../services/api';

interface FormErrorProps {
  error: unknown;
  /** Fields the form shows next to their inputs: their errors are not repeated here. */
  fields?: string[];
  /** Labels of this form's fields, when they differ from the usual ones. */
  labels?: Record<string, string>;
}

/**
 * The form-level error with every field error no input shows, each under its human label
 * ("Country: Not a country.", never "billing_country: ..."), all of them, not only the first.
 */
export function FormError({ error, fields = [], labels }: FormErrorProps) {
  if (!error) return null;
  const message = errorMessage(error);
  const stray =
    error instanceof ApiError
      ? Object.entries(error.fieldErrors)
          .filter(([field]) => !fields.includes(field))
          // The API often repeats a single field's message as the summary: say it once.
          .map(([field, messages]) => [field, messages.filter((m) => m !== message)] as const)
          .filter(([, messages]) => messages.length > 0)
      : [];
  const shownAtFields = error instanceof ApiError && Object.keys(error.fieldErrors).some((f) => fields.includes(f));
  return (
    <div className="alert alert-error" role="alert">
      <p>{shownAtFields && stray.length === 0 ? `${message} Check the fields marked below.` : message}</p>
      {stray.length > 0 && (
        <ul>
          {stray.flatMap(([field, messages]) =>
            messages.map((message) => (
              <li key={`${field}-${message}`}>
                {field === 'non_field_errors' || field === 'detail' ? message : `${fieldLabel(field, labels)}: ${message}`}
              </li>
            )),
          )}
        </ul>
      )}
    </div>
  );
}

export function fieldErrorsOf(error: unknown): Record<string, string[]> {
  return error instanceof ApiError ? error.fieldErrors : {};
}
