import type { KubeConfig } from '@kubernetes/client-node';
import { parse, YAMLParseError } from 'yaml';
import { proxyFor } from '../http/proxy.js';
import { safeUrl } from '../http/request.js';
import { errorMessage, InputError, oneLine } from '../util/errors.js';

/** The client-node module, loaded on first use: tasks that forward no port never pay for it. */
export type ClientNode = typeof import('@kubernetes/client-node');

export interface LoadedKubeConfig {
  kc: KubeConfig;
  k8s: ClientNode;
  /** The current cluster's API server URL, without a trailing slash. */
  server: string;
  /** The same, fit for a log line: no credentials, no query. */
  serverForLog: string;
  context: string;
  /** The input the kubeconfig came from, named in every error. */
  input: string;
  /** The proxy the API server is reached through (the cluster's proxy-url, else HTTPS_PROXY), for logs. */
  proxyForLog?: string;
  /** Replaces every credential of the kubeconfig in a text with ***. */
  redact(text: string): string;
}

// Fields of users[].user (and of auth-provider config / exec env) that hold credentials.
const CREDENTIAL_KEYS = new Set([
  'token',
  'password',
  'client-key-data',
  'access-token',
  'id-token',
  'refresh-token',
  'client-secret',
  'idp-certificate-authority-data',
]);

/**
 * The credentials in a kubeconfig: tokens, passwords, client keys, auth-provider secrets and exec
 * environment values. Callers register them as secrets before anything is logged.
 */
export function kubeconfigSecrets(content: string): string[] {
  let document: unknown;
  try {
    document = parse(content);
  } catch {
    return [];
  }
  const secrets = new Set<string>();
  const users = (document as { users?: unknown } | null)?.users;
  const walk = (value: unknown, key = ''): void => {
    if (typeof value === 'string') {
      if (CREDENTIAL_KEYS.has(key) && value.length >= 3) secrets.add(value);
      return;
    }
    if (Array.isArray(value)) {
      // exec.env is a list of {name, value}: every value may be a credential.
      for (const item of value) {
        const entry = item as { name?: unknown; value?: unknown } | null;
        if (key === 'env' && typeof entry?.value === 'string' && entry.value.length >= 3) secrets.add(entry.value);
        walk(item, key);
      }
      return;
    }
    if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) walk(inner, name);
    }
  };
  if (Array.isArray(users)) walk(users);
  return [...secrets];
}

function redactor(secrets: string[]): (text: string) => string {
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((out, secret) => out.split(secret).join('***'), text);
}

/** Where in the text a YAML error is, without quoting the text (it may hold a token). */
function yamlProblem(error: unknown): string {
  if (error instanceof YAMLParseError) {
    const at = error.linePos?.[0];
    return `does not parse as YAML (${error.code}${at ? ` at line ${at.line}, column ${at.col}` : ''})`;
  }
  return 'does not parse as YAML';
}

/**
 * Parses kubeconfig content with @kubernetes/client-node's KubeConfig and checks that its current
 * context leads to a cluster with an http(s) server. Every problem is an InputError naming `input`,
 * and no message quotes the content.
 */
export async function loadKubeConfig(content: string, input = 'kubeconfig', env: NodeJS.ProcessEnv = process.env): Promise<LoadedKubeConfig> {
  if (!content.trim()) throw new InputError(input, 'is empty; give the content of a kubeconfig file');
  let document: unknown;
  try {
    document = parse(content);
  } catch (error) {
    throw new InputError(input, yamlProblem(error));
  }
  if (typeof document === 'string' && !/\s/.test(document.trim())) {
    throw new InputError(input, 'is a single word, not a kubeconfig: give the content of the file, not its path');
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw new InputError(input, 'is not a kubeconfig: expected a YAML mapping with clusters, contexts, users and current-context');
  }
  const redact = redactor(kubeconfigSecrets(content));

  const k8s: ClientNode = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(content);
  } catch (error) {
    // client-node's own messages ("clusters[0].cluster.server is missing"); the first line only,
    // since a YAML error would quote the offending lines.
    const first = errorMessage(error).split(/\r?\n/)[0] ?? '';
    throw new InputError(input, `is not a valid kubeconfig: ${oneLine(redact(first))}`);
  }

  const contextNames = kc.getContexts().map((context) => context.name);
  const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
  const context = kc.getCurrentContext();
  if (!context) throw new InputError(input, `has no current-context (contexts: ${list(contextNames)})`);
  const contextObject = kc.getContextObject(context);
  if (!contextObject) throw new InputError(input, `current-context '${context}' is not among its contexts (${list(contextNames)})`);
  const cluster = kc.getCluster(contextObject.cluster);
  if (!cluster) {
    throw new InputError(input, `context '${context}' names cluster '${contextObject.cluster}', which is not among its clusters (${list(kc.getClusters().map((c) => c.name))})`);
  }
  if (contextObject.user && !kc.getUser(contextObject.user)) {
    throw new InputError(input, `context '${context}' names user '${contextObject.user}', which is not among its users`);
  }
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new InputError(input, `cluster '${cluster.name}' has a server that is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError(input, `cluster '${cluster.name}' has a server that is not an http(s) URL (scheme ${url.protocol})`);
  }
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) {
    // client-node refuses plain HTTP unless told that no certificate is checked.
    throw new InputError(input, `cluster '${cluster.name}' has an http:// server: use https://, or set insecure-skip-tls-verify: true to allow plain HTTP`);
  }
  // HTTPS_PROXY / NO_PROXY, as kubectl honours them, for the API calls and the WebSockets alike.
  let proxyUrl = cluster.proxyUrl;
  const proxy = proxyUrl ? undefined : proxyFor(url, env);
  if (proxy) {
    proxyUrl = proxy.href;
    kc.clusters = kc.clusters.map((entry) => (entry === cluster ? { ...entry, proxyUrl: proxy.href } : entry));
  }
  const server = cluster.server.replace(/\/+$/, '');
  return {
    kc,
    k8s,
    server,
    serverForLog: safeUrl(server).replace(/\/$/, ''),
    context,
    input,
    redact,
    ...(proxyUrl ? { proxyForLog: safeUrl(proxyUrl).replace(/\/$/, '') } : {}),
  };
}
