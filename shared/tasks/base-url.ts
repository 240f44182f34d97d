import { InputError } from '../util/errors.js';

/** An http(s) URL without credentials, query or fragment, and without a trailing slash. */
export function baseUrl(name: string, value: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(name, `'${value}' is not a URL; write it like ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(name, `'${value}' is not an http or https URL`);
  if (url.username || url.password) throw new InputError(name, 'must not hold credentials: use the credential inputs');
  if (url.search || url.hash) throw new InputError(name, `'${value}' must not have a query string or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
