import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { TestCa } from './ca.js';
import { FakeServers, readBody } from './fake-servers.js';
import { decodeJwt, nowSeconds, publicJwk, recordRequest, rsaKeyPair, sendJson, signJwt, verifyJwt, type RecordedRequest } from './jwt.js';

export type { RecordedRequest } from './jwt.js';

/** The audience Entra workload identity federation expects in a GitHub OIDC token. */
export const AZURE_AD_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

export interface FakeGithubOidcOptions {
  /** The ACTIONS_ID_TOKEN_REQUEST_TOKEN the runtime expects as Bearer; random unless given. */
  requestToken?: string;
  /** owner/name, for the sub, repository and default aud claims (default octo-org/octo-repo). */
  repository?: string;
  /** The `sub` claim (default repo:<repository>:ref:refs/heads/main). */
  subject?: string;
  /** Token lifetime in seconds (default 300). */
  lifetimeSeconds?: number;
}

export interface IssuedOidcToken {
  token: string;
  audience: string;
  subject: string;
  expiresOn: number;
}

export interface FakeGithubOidc {
  /** http://127.0.0.1:port */
  origin: string;
  /** The value for ACTIONS_ID_TOKEN_REQUEST_URL: it has a query already, so clients append &audience=… */
  requestUrl: string;
  /** The value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  /** Both variables, to spread into an environment. */
  env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  subject: string;
  requests: RecordedRequest[];
  /** Tokens handed out, in order. */
  issued: IssuedOidcToken[];
  /**
   * For FakeEntraOptions.validateAssertion: null when the assertion is a token this fake issued,
   * signed by it, unexpired, with aud api://AzureADTokenExchange; else the reason it is refused.
   */
  checkAssertion: (assertion: string) => string | null;
  stop(): Promise<void>;
}

/**
 * The GitHub Actions runtime's OIDC token endpoint over plain http, as the runner serves it:
 * GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=<aud> with Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>
 * answers {"value": "<JWT>"} (and {"count": …} as the service does).
 */
export async function startFakeGithubOidc(options: FakeGithubOidcOptions = {}): Promise<FakeGithubOidc> {
  const requestToken = options.requestToken ?? `fake-actions-runtime-${randomBytes(12).toString('hex')}`;
  const repository = options.repository ?? 'octo-org/octo-repo';
  const subject = options.subject ?? `repo:${repository}:ref:refs/heads/main`;
  const lifetime = options.lifetimeSeconds ?? 300;
  const key = rsaKeyPair();
  const requests: RecordedRequest[] = [];
  const issued: IssuedOidcToken[] = [];
  const servers = new FakeServers();
  const path = `/_apis/distributedtask/hubs/Actions/plans/${randomUUID()}/jobs/${randomUUID()}/idtoken`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record = recordRequest(req, (await readBody(req)).toString('utf8'));
    requests.push(record);
    if (record.path === '/.well-known/jwks') {
      sendJson(res, record, 200, { keys: [publicJwk(key)] });
      return;
    }
    if (record.path !== path) {
      sendJson(res, record, 404, { message: `No such endpoint on the fake Actions runtime: ${req.method} ${record.path}` });
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, record, 405, { message: 'The requested resource does not support http method ' + req.method });
      return;
    }
    if (record.bearer !== requestToken) {
      sendJson(res, record, 401, { $id: '1', message: 'TF400813: The user is not authorized to access this resource.', typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException', errorCode: 0 });
      return;
    }
    const audience = record.query.audience ?? `https://github.com/${repository.split('/')[0]}`;
    const now = nowSeconds();
    const expiresOn = now + lifetime;
    const token = signJwt(
      { kid: key.kid, x5t: key.kid },
      {
        jti: randomUUID(),
        sub: subject,
        aud: audience,
        ref: 'refs/heads/main',
        sha: 'f'.repeat(40),
        repository,
        repository_owner: repository.split('/')[0],
        run_id: '1',
        run_number: '1',
        run_attempt: '1',
        actor: 'octocat',
        workflow: 'ci',
        event_name: 'push',
        ref_type: 'branch',
        job_workflow_ref: `${repository}/.github/workflows/ci.yml@refs/heads/main`,
        runner_environment: 'github-hosted',
        iss: GITHUB_OIDC_ISSUER,
        nbf: now - 5,
        exp: expiresOn,
        iat: now,
      },
      key.privateKey,
    );
    issued.push({ token, audience, subject, expiresOn });
    sendJson(res, record, 200, { count: 1762, value: token });
  }

  const running = await servers.http((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, undefined, 500, { message: String(error) });
      else res.destroy();
    });
  });
  const requestUrl = `${running.origin}${path}?api-version=2.0`;

  const checkAssertion = (assertion: string): string | null => {
    if (!issued.some((t) => t.token === assertion)) return 'No matching federated identity record found for presented assertion.';
    if (!verifyJwt(assertion, key.publicKey)) return 'The assertion signature could not be verified.';
    const { claims } = decodeJwt(assertion);
    if (claims.iss !== GITHUB_OIDC_ISSUER) return `No matching federated identity record found for presented assertion issuer '${String(claims.iss)}'.`;
    if (claims.aud !== AZURE_AD_TOKEN_EXCHANGE_AUDIENCE) return `No matching federated identity record found for presented assertion audience '${String(claims.aud)}'.`;
    if (claims.sub !== subject) return `No matching federated identity record found for presented assertion subject '${String(claims.sub)}'.`;
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds()) return 'The presented assertion is expired.';
    return null;
  };

  return {
    origin: running.origin,
    requestUrl,
    requestToken,
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken },
    subject,
    requests,
    issued,
    checkAssertion,
    stop: () => servers.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Azure Pipelines: the OIDC token endpoint AzurePipelinesCredential calls
// ---------------------------------------------------------------------------------------------

export interface FakeAzurePipelinesOidcOptions {
  /** @azure/identity sends this request over https only: the fake needs the test CA. */
  ca: TestCa;
  /** System.AccessToken the endpoint expects as Bearer; random unless given. */
  systemAccessToken?: string;
  /** The service connection id asked for (?serviceConnectionId=…); a random GUID unless given. */
  serviceConnectionId?: string;
  /** The `sub` claim (default sc://contoso/ml/azure-connection). */
  subject?: string;
  lifetimeSeconds?: number;
}

export interface FakeAzurePipelinesOidc {
  /** https://127.0.0.1:port */
  origin: string;
  /** The value for SYSTEM_OIDCREQUESTURI (AzurePipelinesCredential appends ?api-version=7.1&serviceConnectionId=…). */
  requestUri: string;
  systemAccessToken: string;
  serviceConnectionId: string;
  subject: string;
  env: { SYSTEM_OIDCREQUESTURI: string };
  requests: RecordedRequest[];
  issued: IssuedOidcToken[];
  /** For FakeEntraOptions.validateAssertion, as FakeGithubOidc.checkAssertion. */
  checkAssertion: (assertion: string) => string | null;
  stop(): Promise<void>;
}

/**
 * The Azure DevOps OIDC endpoint of a pipeline job over TLS: POST <SYSTEM_OIDCREQUESTURI>?api-version=7.1&serviceConnectionId=<id>
 * with Authorization: Bearer <System.AccessToken> answers {"oidcToken": "<JWT>"} with aud api://AzureADTokenExchange.
 */
export async function startFakeAzurePipelinesOidc(options: FakeAzurePipelinesOidcOptions): Promise<FakeAzurePipelinesOidc> {
  const systemAccessToken = options.systemAccessToken ?? `fake-system-access-token-${randomBytes(12).toString('hex')}`;
  const serviceConnectionId = options.serviceConnectionId ?? randomUUID();
  const subject = options.subject ?? 'sc://contoso/ml/azure-connection';
  const lifetime = options.lifetimeSeconds ?? 600;
  const organizationId = randomUUID();
  const issuer = `https://vstoken.dev.azure.com/${organizationId}`;
  const key = rsaKeyPair();
  const requests: RecordedRequest[] = [];
  const issued: IssuedOidcToken[] = [];
  const servers = new FakeServers();
  const path = `/${organizationId}/${randomUUID()}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record = recordRequest(req, (await readBody(req)).toString('utf8'));
    requests.push(record);
    if (record.path !== path) return sendJson(res, record, 404, { message: `No such endpoint on the fake Azure DevOps: ${req.method} ${record.path}` });
    if (req.method !== 'POST') return sendJson(res, record, 405, { message: `The requested resource does not support http method '${req.method}'.` });
    if (record.bearer !== systemAccessToken) {
      return sendJson(res, record, 401, { $id: '1', message: 'TF400813: The user is not authorized to access this resource.', typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException', errorCode: 0 });
    }
    if (record.query.serviceConnectionId !== serviceConnectionId) {
      return sendJson(res, record, 404, { $id: '1', message: `Service connection with id ${record.query.serviceConnectionId ?? ''} not found.`, typeName: 'Microsoft.TeamFoundation.DistributedTask.WebApi.ServiceEndpointNotFoundException', errorCode: 0 });
    }
    const now = nowSeconds();
    const expiresOn = now + lifetime;
    const token = signJwt({ kid: key.kid, x5t: key.kid }, {
      jti: randomUUID(),
      sub: subject,
      aud: AZURE_AD_TOKEN_EXCHANGE_AUDIENCE,
      iss: issuer,
      nbf: now,
      exp: expiresOn,
      iat: now,
    }, key.privateKey);
    issued.push({ token, audience: AZURE_AD_TOKEN_EXCHANGE_AUDIENCE, subject, expiresOn });
    sendJson(res, record, 200, { oidcToken: token });
  }

  const running = await servers.https(options.ca, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, undefined, 500, { message: String(error) });
      else res.destroy();
    });
  });
  const requestUri = `${running.origin}${path}`;
  const checkAssertion = (assertion: string): string | null => {
    if (!issued.some((t) => t.token === assertion)) return 'No matching federated identity record found for presented assertion.';
    if (!verifyJwt(assertion, key.publicKey)) return 'The assertion signature could not be verified.';
    const { claims } = decodeJwt(assertion);
    if (claims.iss !== issuer || claims.aud !== AZURE_AD_TOKEN_EXCHANGE_AUDIENCE || claims.sub !== subject) return 'No matching federated identity record found for presented assertion.';
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds()) return 'The presented assertion is expired.';
    return null;
  };
  return {
    origin: running.origin,
    requestUri,
    systemAccessToken,
    serviceConnectionId,
    subject,
    env: { SYSTEM_OIDCREQUESTURI: requestUri },
    requests,
    issued,
    checkAssertion,
    stop: () => servers.close(),
  };
}
