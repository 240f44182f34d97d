import { stringify } from 'yaml';
import { K8sApi, K8sApiError } from '../../k8s/api.js';
import { loadKubeConfig, type LoadedKubeConfig } from '../../k8s/kubeconfig.js';
import { UserError } from '../../util/errors.js';

/** The field manager our applies own their fields under: users' other fields survive them. */
export const FIELD_MANAGER = 'mlops-tasks';

/** The few metadata fields every object read here carries. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Where one kind lives in the API: 'apis/serving.kserve.io/v1beta1' and 'inferenceservices'. */
export interface ResourceKind {
  prefix: string;
  plural: string;
  /** How errors name it, e.g. 'InferenceService'. */
  kind: string;
}

export const KINDS = {
  inferenceService: { prefix: 'apis/serving.kserve.io/v1beta1', plural: 'inferenceservices', kind: 'InferenceService' },
  deployment: { prefix: 'apis/apps/v1', plural: 'deployments', kind: 'Deployment' },
  service: { prefix: 'api/v1', plural: 'services', kind: 'Service' },
  pod: { prefix: 'api/v1', plural: 'pods', kind: 'Pod' },
  event: { prefix: 'api/v1', plural: 'events', kind: 'Event' },
} satisfies Record<string, ResourceKind>;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const enc = encodeURIComponent;

/** One namespace of one cluster, reached with the step's kubeconfig. */
export class Cluster {
  private constructor(
    readonly api: K8sApi,
    readonly config: LoadedKubeConfig,
    readonly namespace: string,
    readonly kubeconfig: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async connect(kubeconfig: string, input: string, namespace: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<Cluster> {
    const config = await loadKubeConfig(kubeconfig, input, env);
    return new Cluster(new K8sApi(config, signal, 'the deploy'), config, namespace, kubeconfig, env);
  }

  path(kind: ResourceKind, name?: string, sub?: string): string {
    const base = `/${kind.prefix}/namespaces/${enc(this.namespace)}/${kind.plural}`;
    return name ? `${base}/${enc(name)}${sub ? `/${sub}` : ''}` : base;
  }

  label(kind: ResourceKind, name: string): string {
    return `${kind.kind} ${this.namespace}/${name}`;
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends K8sObject>(kind: ResourceKind, name: string): Promise<T | undefined> {
    try {
      return await this.api.get<T>(this.path(kind, name), `GET ${this.label(kind, name)}`);
    } catch (error) {
      if (error instanceof K8sApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list<T extends K8sObject>(kind: ResourceKind, query: Record<string, string>, what: string): Promise<{ items: T[]; resourceVersion: string }> {
    const search = new URLSearchParams(query).toString();
    const answer = await this.api.get<{ items?: T[]; metadata?: { resourceVersion?: string } }>(`${this.path(kind)}${search ? `?${search}` : ''}`, what);
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion ?? '' };
  }

  /**
   * Server-side apply under our field manager, forcing ownership of the fields we set (a CI step
   * is the source of truth for them). `dryRun` checks permission and schema without changing
   * anything; Strict field validation turns a field the cluster's schema lacks into an error
   * instead of a silent prune.
   */
  async apply<T extends K8sObject>(kind: ResourceKind, object: K8sObject, dryRun = false): Promise<T> {
    const name = object.metadata?.name ?? '';
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true', fieldValidation: 'Strict' });
    if (dryRun) query.set('dryRun', 'All');
    const what = `${dryRun ? 'dry-run apply' : 'apply'} ${this.label(kind, name)}`;
    try {
      return await this.api.json<T>('PATCH', `${this.path(kind, name)}?${query}`, what, {
        text: stringify(object),
        contentType: 'application/apply-patch+yaml',
      });
    } catch (error) {
      throw this.explain(error, kind, what);
    }
  }

  async delete(kind: ResourceKind, name: string): Promise<void> {
    try {
      await this.api.json('DELETE', this.path(kind, name), `DELETE ${this.label(kind, name)}`);
    } catch (error) {
      if (error instanceof K8sApiError && error.status === 404) return;
      throw error;
    }
  }

  /** The last lines of a container's log ('' when the API has none to give). */
  async logTail(pod: string, container: string | undefined, lines: number, previous: boolean): Promise<string> {
    const query = new URLSearchParams({ tailLines: String(lines) });
    if (container) query.set('container', container);
    if (previous) query.set('previous', 'true');
    try {
      return await this.api.text(`${this.path(KINDS.pod, pod, 'log')}?${query}`, `GET log of pod ${this.namespace}/${pod}`);
    } catch (error) {
      if (error instanceof UserError) return '';
      throw error;
    }
  }

  /**
   * Watches one object until `done` says so, the deadline passes (resolves false) or the signal
   * aborts. Starts from a GET, so a state reached before the watch began is seen; a watch the
   * server ends, or one whose resourceVersion expired (410), starts again from a fresh GET.
   */
  async watchObject<T extends K8sObject>(kind: ResourceKind, name: string, deadline: number, signal: AbortSignal, done: (object: T | undefined) => boolean): Promise<boolean> {
    const what = `watch ${this.label(kind, name)}`;
    while (Date.now() < deadline) {
      const current = await this.get<T>(kind, name);
      if (done(current)) return true;
      const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      const query = new URLSearchParams({
        watch: 'true',
        fieldSelector: `metadata.name=${name}`,
        timeoutSeconds: String(seconds),
        allowWatchBookmarks: 'true',
        ...(current?.metadata?.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      });
      const timer = new AbortController();
      const stop = setTimeout(() => timer.abort(), deadline - Date.now());
      const onAbort = () => timer.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let reached = false;
      try {
        await this.api.watch<WatchEvent<T>>(`${this.path(kind)}?${query}`, what, (event) => {
          if (event.type === 'ERROR' || event.type === 'BOOKMARK') return event.type === 'ERROR';
          reached = done(event.type === 'DELETED' ? undefined : event.object);
          return reached;
        }, timer.signal);
      } catch (error) {
        // Our own deadline ends the watch by aborting it; the caller's cancel goes on up.
        if (signal.aborted || !timer.signal.aborted) throw error;
      } finally {
        clearTimeout(stop);
        signal.removeEventListener('abort', onAbort);
      }
      if (reached) return true;
    }
    return false;
  }

  /** A 403 on a write says which namespace we may not write, in the API server's own words. */
  private explain(error: unknown, kind: ResourceKind, what: string): unknown {
    if (!(error instanceof UserError)) return error;
    if (/ 403 Forbidden/.test(error.message)) {
      return new UserError(`the Kubernetes API server refused to ${what}: 403 Forbidden, the kubeconfig's user may not write ${kind.plural} in namespace '${this.namespace}' (${error.message.replace(/^.*lacks permission:? ?/, '') || 'no detail'})`);
    }
    if (error instanceof K8sApiError && error.status === 404 && kind === KINDS.inferenceService) {
      return new UserError(`the cluster has no InferenceService API (serving.kserve.io/v1beta1): is KServe installed? (${what})`);
    }
    return error;
  }
}
