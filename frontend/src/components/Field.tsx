import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';

interface FieldShellProps {
  label: string;
  errors?: string[];
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}

/** A label, a control and the API's field errors, tied together for screen readers. */
function FieldShell({ label, errors, hint, children }: FieldShellProps) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, errors?.length && `${id}-errors`].filter(Boolean).join(' ');
  return (
    <div className={`field${errors?.length ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(errors?.length), 'aria-describedby': describedBy || undefined })}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {errors?.length ? (
        <ul id={`${id}-errors`} className="field-errors">
          {errors.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

type TextFieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; errors?: string[]; hint?: string };

export function TextField({ label, errors, hint, ...input }: TextFieldProps) {
  return (
    <FieldShell label={label} errors={errors} hint={hint}>
      {(a11y) => <input {...input} {...a11y} />}
    </FieldShell>
  );
}

type SelectFieldProps = SelectHTMLAttributes<HTMLSelectElement> & { label: string; errors?: string[]; hint?: string };

export function SelectField({ label, errors, hint, children, ...select }: SelectFieldProps) {
  return (
    <FieldShell label={label} errors={errors} hint={hint}>
      {(a11y) => (
        <select {...select} {...a11y}>
          {children}
        </select>
      )}
    </FieldShell>
  );
}
