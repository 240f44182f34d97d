import { InputError } from '../../util/errors.js';
import { InputReader } from '../../platform/inputs.js';
import type { Platform } from '../../platform/platform.js';
import type { AuthSources } from '../../kfp/auth.js';
import type { ApiChoice } from '../../kfp/connect.js';
import { readPipelinePackage } from '../../kfp/package.js';
import { parseGivenParameters, typeParameters, type GivenParameter } from '../../kfp/parameters.js';
import type { PipelineSource } from '../../kfp/publish.js';
import { readKubernetesAccess, type KubernetesAccess } from '../kubernetes-access.js';
import { declaration } from './declaration.js';

export interface PortForwardInputs extends KubernetesAccess {
  /** 'namespace/service:port', parsed by the port-forward module when it is loaded. */
  target: string;
}

export interface TriggerInputs {
  /** The API base URL; empty when the step port-forwards. */
  host: string;
  portForward?: PortForwardInputs;
  apiVersion: ApiChoice;
  namespace: string;
  auth: AuthSources;
  caPem?: string;
  /** Base of run links; empty: the API URL. */
  uiUrl: string;
  source: PipelineSource;
  given: GivenParameter[];
  /** Typed already when the package is local; a server's pipeline is typed once its spec is read. */
  parameters?: Record<string, unknown>;
  experiment: string;
  runName: string;
  wait: boolean;
  timeoutMinutes: number;
  terminateOnCancel: boolean;
}

/** An http(s) URL without query, fragment or credentials, and without a trailing slash. */
function baseUrl(inputs: InputReader, name: string): string {
  const value = inputs.string(name);
  if (!value) return '';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(name, `'${value}' is not a URL; write it like https://kf.example.com/pipeline`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(name, `'${value}' is not an http or https URL`);
  if (url.username || url.password) throw new InputError(name, "must not hold credentials: use 'token', 'tokenFile' or 'cookie'");
  if (url.search || url.hash) throw new InputError(name, `'${value}' must not have a query string or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function readAuth(inputs: InputReader): AuthSources {
  const token = inputs.raw('token');
  const cookie = inputs.raw('cookie');
  const tokenFile = inputs.path('tokenFile', 'file');
  if (token && tokenFile) throw new InputError('tokenFile', "give either 'token' or 'tokenFile', not both");
  if (/[\r\n]/.test(token)) throw new InputError('token', 'must be a single line');
  if (/[\r\n]/.test(cookie)) throw new InputError('cookie', 'must be a single line');
  return { token: token || undefined, tokenFile: tokenFile || undefined, cookie: cookie || undefined };
}

function readPortForward(inputs: InputReader, platform: Platform): PortForwardInputs | undefined {
  const access = readKubernetesAccess(inputs, platform);
  return access && { ...access, target: inputs.string('portForward') };
}

async function readSource(inputs: InputReader, platform: Platform): Promise<PipelineSource> {
  const file = inputs.path('pipelineFile', 'file');
  const pipelineName = inputs.string('pipelineName');
  const versionName = inputs.string('pipelineVersion');
  const pipelineId = inputs.string('pipelineId');
  const versionId = inputs.string('pipelineVersionId');
  if (!file) {
    if (!pipelineName && !pipelineId && !versionId) {
      throw new InputError('pipelineFile', "is empty: give a pipeline package, or 'pipelineName', 'pipelineId' or 'pipelineVersionId' to run a pipeline on the server");
    }
    if (versionId && versionName) throw new InputError('pipelineVersion', "give either 'pipelineVersion' or 'pipelineVersionId', not both");
    return { kind: 'server', pipelineId, versionId, pipelineName, versionName };
  }
  if (pipelineId || versionId) {
    throw new InputError(pipelineId ? 'pipelineId' : 'pipelineVersionId', "runs a pipeline already on the server: give either it or 'pipelineFile', not both");
  }
  const pkg = await readPipelinePackage(file);
  if (typeof pkg === 'string') throw new InputError('pipelineFile', `'${inputs.string('pipelineFile')}' ${pkg}`);
  const version = versionName || platform.ci.sha;
  if (!version) throw new InputError('pipelineVersion', 'is empty and the runner gives no commit SHA to name the version after: set it');
  const description = platform.ci.repositoryUrl && platform.ci.sha ? `Published by TriggerKubeflow from ${platform.ci.repositoryUrl} at ${platform.ci.sha}` : '';
  return { kind: 'package', pkg, pipelineName: pipelineName || pkg.name, versionName: version, description };
}

/** No CI job runs longer than 30 days (GitHub's self-hosted limit is 35). */
const MAX_TIMEOUT_MINUTES = 30 * 24 * 60;

function readTimeout(inputs: InputReader): number {
  const text = inputs.string('timeoutMinutes');
  const minutes = Number(text);
  if (!text || !Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_TIMEOUT_MINUTES) {
    throw new InputError('timeoutMinutes', `must be a number of minutes above 0 and at most ${MAX_TIMEOUT_MINUTES}, got '${text}'`);
  }
  return minutes;
}

/** Reads and checks every TriggerKubeflow input before anything is sent: the package and its parameters included. */
export async function readTriggerInputs(platform: Platform): Promise<TriggerInputs> {
  const inputs = new InputReader(declaration, platform);
  // Secrets first: they are masked before anything below can echo them.
  const auth = readAuth(inputs);
  const portForward = readPortForward(inputs, platform);
  const host = baseUrl(inputs, 'host');
  if (!host && !portForward) {
    const forward = platform.name === 'azure' ? "'kubeconfig' or 'kubernetesServiceConnection'" : "'kubeconfig'";
    throw new InputError('host', `is empty: give the KFP API URL, or ${forward} to port-forward to the KFP API service`);
  }
  const source = await readSource(inputs, platform);
  const given = await parseGivenParameters(inputs.raw('parameters'));
  if (typeof given === 'string') throw new InputError('parameters', given);
  let parameters: Record<string, unknown> | undefined;
  if (source.kind === 'package') {
    const typed = typeParameters(source.pkg.parameters, given, source.pkg.kind);
    if (typeof typed === 'string') throw new InputError('parameters', typed);
    parameters = typed;
  }
  const experiment = inputs.string('experiment');
  if (!experiment) throw new InputError('experiment', 'is empty: name the experiment to run in');
  if (host && portForward) platform.warning(`'host' is set, so no port-forward is opened: ${portForward.connection ? "'kubernetesServiceConnection'" : "'kubeconfig'"} is not used`);
  return {
    host,
    portForward: host ? undefined : portForward,
    apiVersion: inputs.pick<ApiChoice>('apiVersion'),
    namespace: inputs.string('namespace'),
    auth,
    caPem: inputs.certificate('caCertFile'),
    uiUrl: baseUrl(inputs, 'uiUrl'),
    source,
    given,
    parameters,
    experiment,
    runName: inputs.string('runName'),
    wait: inputs.boolean('wait'),
    timeoutMinutes: readTimeout(inputs),
    terminateOnCancel: inputs.boolean('terminateOnCancel'),
  };
}
