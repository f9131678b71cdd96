import codes from './countries.json';

/**
 * ISO 3166-1 alpha-2 codes the API accepts (pycountry's list; test_frontend_limits.py keeps them equal),
 * named in the browser's language by Intl.DisplayNames, sorted by name.
 */
export function countryOptions(locale = 'en'): { code: string; name: string }[] {
  let names: Intl.DisplayNames | undefined;
  try {
    names = new Intl.DisplayNames([locale], { type: 'region' });
  } catch {
    names = undefined; // an old browser: the codes alone still work
  }
  return (codes as string[])
    .map((code) => ({ code, name: names?.of(code) ?? code }))
    .sort((a, b) => a.name.localeCompare(b.name, locale));
}
