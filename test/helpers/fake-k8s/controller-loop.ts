import type { FakeKubernetes } from './server.js';
import type { ChangeType, K8sObject, ResourceType } from './store.js';

/**
 * What both simulated controllers share: react to changes of one resource type after a small
 * delay (so a client sees the object before its status), one reconcile at a time per object, and
 * idle() for a test that wants the dust settled.
 */
export abstract class ControllerLoop {
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private listener: ((type: ChangeType, resource: ResourceType, object: K8sObject) => void) | undefined;
  protected readonly type: ResourceType;

  constructor(
    protected readonly fake: FakeKubernetes,
    group: string,
    plural: string,
    protected readonly delayMs: number,
  ) {
    const type = fake.resourceType(group, plural);
    if (!type) throw new Error(`the fake serves no ${group} ${plural}: start it with deploy: true`);
    this.type = type;
  }

  /** Reconciles on every change from now on (and once for what exists). */
  start(): this {
    this.listener = (change, resource, object) => {
      if (resource !== this.type) return;
      if (change === 'DELETED') this.forget(object);
      else if (this.wants(object)) this.schedule(object.metadata.namespace ?? 'default', object.metadata.name);
    };
    this.fake.store.on('change', this.listener);
    for (const object of this.fake.store.list(this.type, undefined)) if (this.wants(object)) this.schedule(object.metadata.namespace ?? 'default', object.metadata.name);
    return this;
  }

  stop(): void {
    if (this.listener) this.fake.store.off('change', this.listener);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Resolves when no reconcile is waiting or running. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Reconciles one object now. */
  reconcile(namespace: string, name: string): void {
    const object = this.fake.store.get(this.type, namespace, name);
    if (object && this.wants(object)) this.sync(object);
  }

  protected get(namespace: string, name: string): K8sObject | undefined {
    return this.fake.store.get(this.type, namespace, name);
  }

  /** Writes status the way a controller does through …/status: only status changes. */
  protected writeStatus(object: K8sObject, status: Record<string, unknown>): K8sObject {
    const live = this.get(object.metadata.namespace ?? 'default', object.metadata.name);
    if (!live) return object;
    return this.fake.store.put({ ...live, status });
  }

  /** Whether an object's spec is ahead of its status. */
  protected wants(object: K8sObject): boolean {
    const observed = (object.status as { observedGeneration?: number } | undefined)?.observedGeneration;
    return observed === undefined || observed < (object.metadata.generation ?? 1);
  }

  protected abstract sync(object: K8sObject): void;
  protected abstract forget(object: K8sObject): void;

  private schedule(namespace: string, name: string): void {
    let done!: () => void;
    const promise = new Promise<void>((resolve) => (done = resolve));
    this.pending.add(promise);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        this.reconcile(namespace, name);
      } catch (error) {
        this.fake.violation(`a simulated controller failed on ${namespace}/${name}: ${(error as Error).stack ?? error}`);
      } finally {
        this.pending.delete(promise);
        done();
      }
    }, this.delayMs);
    this.timers.add(timer);
  }
}
