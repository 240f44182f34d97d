import { createPublicKey, createSign, createVerify, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type http from 'node:http';

/** base64url without padding, as JOSE wants. */
export function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** A key id for the `kid` header and the JWKS. */
  kid: string;
}

export function rsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, kid: randomUUID().replace(/-/g, '') };
}

/** Signs a compact JWS with RS256; the header gets alg RS256 and typ JWT unless given. */
export function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject | string): string {
  const input = `${base64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', ...header }))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${base64url(signature)}`;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Decodes a compact JWS without checking it; throws on anything that is not three base64url JSON parts. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS: expected three dot-separated parts');
  const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: json(parts[0]!), claims: json(parts[1]!) };
}

/** Checks an RS256 signature; false for anything malformed. */
export function verifyJwt(token: string, key: KeyObject | string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    return createVerify('RSA-SHA256').update(`${parts[0]}.${parts[1]}`).verify(key, Buffer.from(parts[2]!, 'base64url'));
  } catch {
    return false;
  }
}

/** The public half as a JWK with kid, use and alg, for a JWKS document. */
export function publicJwk(pair: RsaKeyPair): Record<string, unknown> {
  return { ...createPublicKey(pair.publicKey).export({ format: 'jwk' }), kid: pair.kid, use: 'sig', alg: 'RS256' };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** What a fake server saw of one request. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Query parameters; a repeated one keeps every value in `queryAll`, its first value here. */
  query: Record<string, string>;
  queryAll: [string, string][];
  /** Header names in lower case, as Node gives them. */
  headers: http.IncomingHttpHeaders;
  /** application/x-www-form-urlencoded body fields (first value of each); {} for other bodies. */
  form: Record<string, string>;
  formAll: [string, string][];
  /** The raw body as text, for form and JSON requests; '' for proxied or empty bodies. */
  body: string;
  /** Decoded `Authorization: Basic` credentials, when sent. */
  basic?: { username: string; password: string };
  /** The token of `Authorization: Bearer`, when sent. */
  bearer?: string;
  /** The status code the fake answered with (set once the answer is written). */
  status?: number;
}

function firstValues(pairs: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of pairs) if (!(key in out)) out[key] = value;
  return out;
}

/** Builds the record of a request; `body` is the text already read (or '' when it is not read). */
export function recordRequest(req: http.IncomingMessage, body: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://fake');
  const queryAll = [...url.searchParams.entries()];
  const isForm = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
  const formAll = isForm ? [...new URLSearchParams(body).entries()] : [];
  const record: RecordedRequest = {
    method: req.method ?? '',
    path: url.pathname,
    query: firstValues(queryAll),
    queryAll,
    headers: req.headers,
    form: firstValues(formAll),
    formAll,
    body,
  };
  const authorization = req.headers.authorization ?? '';
  const basic = /^Basic\s+(.+)$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    record.basic = colon < 0 ? { username: decoded, password: '' } : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
  if (bearer) record.bearer = bearer[1]!;
  return record;
}

/** Writes a JSON answer and notes the status in the record. */
export function sendJson(res: http.ServerResponse, record: RecordedRequest | undefined, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  if (record) record.status = status;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
