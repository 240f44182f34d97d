import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { TestCa } from './ca.js';
import { FakeServers, readBody } from './fake-servers.js';
import { nowSeconds, publicJwk, recordRequest, rsaKeyPair, sendJson, signJwt, type RecordedRequest } from './jwt.js';

export type { RecordedRequest } from './jwt.js';

export const CLIENT_ASSERTION_TYPE_JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface FakeEntraOptions {
  /** Server certificate for 127.0.0.1/localhost; clients must trust ca.caCertFile. */
  ca: TestCa;
  /** The only tenant the fake knows; a random GUID unless given. */
  tenantId?: string;
  /** The only application (client) id the fake knows; a random GUID unless given. */
  clientId?: string;
  /** The client secret accepted with client_credentials; a random one unless given; null: no secret is accepted. */
  clientSecret?: string | null;
  /** A client_assertion accepted verbatim (federated credential). */
  assertion?: string;
  /**
   * Decides on any other client_assertion: null accepts it, a string refuses it and is the reason
   * shown in the AADSTS error. FakeGithubOidc.checkAssertion fits here.
   */
  validateAssertion?: (assertion: string) => string | null;
  /** Lifetime of the access tokens issued, in seconds (default 3599, as Entra says). */
  tokenLifetimeSeconds?: number;
}

export interface IssuedEntraToken {
  token: string;
  /** The scope asked for, e.g. https://management.azure.com/.default */
  scope: string;
  /** The `aud` claim: the scope without /.default. */
  audience: string;
  clientId: string;
  tenantId: string;
  /** How the client authenticated. */
  via: 'client_secret' | 'client_assertion';
  expiresOn: number;
}

export interface FakeEntra {
  /** https://127.0.0.1:port: pass as `authorityHost` (with `disableInstanceDiscovery: true`). */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string | null;
  /** https://<authorityHost>/<tenant>/oauth2/v2.0/token */
  tokenEndpoint: string;
  /** Every request in arrival order, token requests and metadata look-ups alike. */
  requests: RecordedRequest[];
  /** Token requests only (POST …/oauth2/v2.0/token). */
  tokenRequests(): RecordedRequest[];
  /** Access tokens handed out, in order. */
  issued: IssuedEntraToken[];
  /** Whether the fake issued this access token (and it has not expired). */
  isIssued(token: string): boolean;
  stop(): Promise<void>;
}

interface AadError {
  status: number;
  error: string;
  code: number;
  message: string;
}

function aadstsBody(failure: AadError): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    error: failure.error,
    error_description: `AADSTS${failure.code}: ${failure.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
  };
}

/**
 * A Microsoft Entra ID v2 token endpoint over TLS: client_credentials with a client secret or with a
 * client assertion (workload identity federation), plus the OpenID metadata MSAL reads first.
 */
export async function startFakeEntra(options: FakeEntraOptions): Promise<FakeEntra> {
  const tenantId = options.tenantId ?? randomUUID();
  const clientId = options.clientId ?? randomUUID();
  const clientSecret = options.clientSecret === undefined ? `fake-entra-secret-${randomBytes(12).toString('hex')}` : options.clientSecret;
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const key = rsaKeyPair();
  const requests: RecordedRequest[] = [];
  const issued: IssuedEntraToken[] = [];
  const servers = new FakeServers();
  let origin = '';

  const metadata = () => ({
    token_endpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${origin}/${tenantId}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${origin}/${tenantId}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${origin}/oidc/userinfo`,
    authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${origin}/${tenantId}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid'],
    kerberos_endpoint: `${origin}/${tenantId}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });

  function tokenRequest(form: Record<string, string>, pathTenant: string): AadError | { token: string; issuedToken: IssuedEntraToken } {
    if (pathTenant !== tenantId) {
      return { status: 400, error: 'invalid_request', code: 90002, message: `Tenant '${pathTenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.` };
    }
    if (form.grant_type !== 'client_credentials') {
      return { status: 400, error: 'unsupported_grant_type', code: 70003, message: `The app requested an unsupported grant type '${form.grant_type ?? ''}'.` };
    }
    if (!form.client_id) return { status: 400, error: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'client_id'." };
    if (form.client_id !== clientId) {
      return { status: 400, error: 'unauthorized_client', code: 700016, message: `Application with identifier '${form.client_id}' was not found in the directory '${tenantId}'.` };
    }
    const scope = form.scope ?? '';
    if (!/^\S+\/\.default$/.test(scope)) {
      return { status: 400, error: 'invalid_scope', code: 1002012, message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).` };
    }
    let via: IssuedEntraToken['via'];
    if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
      if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE_JWT_BEARER) {
        return { status: 400, error: 'invalid_request', code: 900144, message: `client_assertion_type must be '${CLIENT_ASSERTION_TYPE_JWT_BEARER}'.` };
      }
      const assertion = form.client_assertion ?? '';
      let reason: string | null = 'No matching federated identity record found for presented assertion.';
      if (options.assertion !== undefined && assertion === options.assertion) reason = null;
      else if (options.validateAssertion) reason = options.validateAssertion(assertion);
      if (reason !== null) return { status: 400, error: 'invalid_client', code: 70021, message: reason };
      via = 'client_assertion';
    } else if (form.client_secret !== undefined) {
      if (clientSecret === null || form.client_secret !== clientSecret) {
        return { status: 401, error: 'invalid_client', code: 7000215, message: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.' };
      }
      via = 'client_secret';
    } else {
      return { status: 401, error: 'invalid_client', code: 7000218, message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." };
    }
    const audience = scope.slice(0, -'/.default'.length);
    const now = nowSeconds();
    const expiresOn = now + lifetime;
    const token = signJwt(
      { kid: key.kid, x5t: key.kid },
      {
        aud: audience,
        iss: `https://sts.windows.net/${tenantId}/`,
        iat: now,
        nbf: now,
        exp: expiresOn,
        appid: clientId,
        appidacr: via === 'client_secret' ? '1' : '2',
        idp: `https://sts.windows.net/${tenantId}/`,
        idtyp: 'app',
        oid: clientId,
        sub: clientId,
        tid: tenantId,
        uti: randomBytes(16).toString('base64url'),
        ver: '1.0',
      },
      key.privateKey,
    );
    const issuedToken: IssuedEntraToken = { token, scope, audience, clientId, tenantId, via, expiresOn };
    return { token, issuedToken };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const record = recordRequest(req, body);
    requests.push(record);
    const segments = record.path.split('/').filter(Boolean);
    if (req.method === 'GET' && segments.length === 4 && segments[1] === 'v2.0' && segments[2] === '.well-known' && segments[3] === 'openid-configuration') {
      if (segments[0] !== tenantId) {
        sendJson(res, record, 400, aadstsBody({ status: 400, error: 'invalid_tenant', code: 90002, message: `Tenant '${segments[0]}' not found.` }));
        return;
      }
      sendJson(res, record, 200, metadata());
      return;
    }
    if (req.method === 'GET' && segments.length === 4 && segments[1] === 'discovery' && segments[2] === 'v2.0' && segments[3] === 'keys') {
      sendJson(res, record, 200, { keys: [publicJwk(key)] });
      return;
    }
    if (req.method === 'GET' && record.path === '/common/discovery/instance') {
      // Instance discovery: answered so a test can see it happened (it should not, with disableInstanceDiscovery).
      const host = new URL(origin).host;
      sendJson(res, record, 200, {
        tenant_discovery_endpoint: `${origin}/${tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
      return;
    }
    if (segments.length === 4 && segments[1] === 'oauth2' && segments[2] === 'v2.0' && segments[3] === 'token') {
      if (req.method !== 'POST') {
        sendJson(res, record, 405, aadstsBody({ status: 405, error: 'invalid_request', code: 900561, message: 'The endpoint only accepts POST requests.' }));
        return;
      }
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
        sendJson(res, record, 400, aadstsBody({ status: 400, error: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'grant_type'." }));
        return;
      }
      const outcome = tokenRequest(record.form, segments[0]!);
      if ('status' in outcome) {
        sendJson(res, record, outcome.status, aadstsBody(outcome));
        return;
      }
      issued.push(outcome.issuedToken);
      sendJson(res, record, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: outcome.token }, { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' });
      return;
    }
    sendJson(res, record, 404, aadstsBody({ status: 404, error: 'invalid_request', code: 900561, message: `No such endpoint on the fake Entra: ${req.method} ${record.path}` }));
  }

  const running = await servers.https(options.ca, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, undefined, 500, { error: 'server_error', error_description: String(error) });
      else res.destroy();
    });
  });
  origin = running.origin;

  return {
    authorityHost: origin,
    tenantId,
    clientId,
    clientSecret,
    tokenEndpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
    requests,
    tokenRequests: () => requests.filter((r) => r.method === 'POST' && r.path.endsWith('/oauth2/v2.0/token')),
    issued,
    isIssued: (token) => issued.some((t) => t.token === token && t.expiresOn > nowSeconds()),
    stop: () => servers.close(),
  };
}
