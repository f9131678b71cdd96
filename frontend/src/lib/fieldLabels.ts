/** What a person calls each API field, for error messages that name a field. */
export const FIELD_LABELS: Record<string, string> = {
  email: 'Email',
  password: 'Password',
  new_password: 'New password',
  current_password: 'Current password',
  first_name: 'First name',
  last_name: 'Last name',
  account_name: 'Account name',
  name: 'Account name',
  billing_email: 'Billing email',
  billing_address_line1: 'Address line 1',
  billing_address_line2: 'Address line 2',
  billing_city: 'City',
  billing_state: 'State or region',
  billing_postal_code: 'Postal code',
  billing_country: 'Country',
  tax_id: 'Tax ID',
  role: 'Role',
  token: 'Invitation',
  transfer_reference: 'Transfer reference',
  payment_method: 'Payment method',
  days: 'Period',
  start: 'From',
  end: 'To',
};

/** "billing_country" -> "Country"; an unknown field reads as words, never as a code. */
export function fieldLabel(field: string, labels: Record<string, string> = {}): string {
  const known = labels[field] ?? FIELD_LABELS[field];
  if (known) return known;
  const words = field.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
