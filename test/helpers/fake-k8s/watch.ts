import { flag } from './core-v1.js';
import type { FakeKubernetes, HttpContext } from './server.js';
import { groupVersion, type ChangeType, type K8sObject, type ResourceType } from './store.js';

const WATCH_EVENT = 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';

type EventType = ChangeType | 'BOOKMARK' | 'ERROR';

/**
 * A watch as the API server streams it: one JSON event per line. No resourceVersion (or "0")
 * starts with ADDED for what exists; a resourceVersion replays the changes after it, or, when it
 * is older than the store's last compaction (ObjectStore.compact), sends one ERROR event with a
 * 410 Expired Status. Objects moving into or out of the selectors arrive as ADDED or DELETED.
 * Bookmarks every FakeKubernetes.bookmarkIntervalMs when allowed; timeoutSeconds ends the stream.
 */
export function watch(fake: FakeKubernetes, context: HttpContext, type: ResourceType, namespace: string | undefined, matches: (object: K8sObject) => boolean): void {
  const { url, response } = context;
  const store = fake.store;
  const where = `watch ${url.pathname}`;
  const inScope = (object: K8sObject) => !type.namespaced || !namespace || object.metadata.namespace === namespace;
  response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  fake.record(context.request)!.status = 200;

  const send = (eventType: EventType, object: unknown) => {
    const event = { type: eventType, object };
    fake.validate(WATCH_EVENT, event, where);
    fake.validate(eventType === 'ERROR' ? STATUS : type.schema, object, `${where} ${eventType} event`);
    if (!response.writableEnded) response.write(`${JSON.stringify(event)}\n`);
  };

  const from = url.searchParams.get('resourceVersion') ?? '';
  if (from && from !== '0' && Number(from) < store.compactedRevision) {
    send('ERROR', {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${from} (${store.compactedRevision})`,
      reason: 'Expired',
      code: 410,
    });
    response.end();
    return;
  }

  // Which objects this watch has shown as present, to turn selector moves into ADDED/DELETED.
  const shown = new Set<string>();
  const key = (object: K8sObject) => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  const deliver = (change: ChangeType, object: K8sObject) => {
    if (!inScope(object)) return;
    const was = shown.has(key(object));
    const is = change !== 'DELETED' && matches(object);
    if (is) shown.add(key(object));
    else shown.delete(key(object));
    if (was && is) send('MODIFIED', object);
    else if (!was && is) send('ADDED', object);
    else if (was && !is) send('DELETED', object);
  };

  if (!from || from === '0') {
    for (const object of store.list(type, namespace)) deliver('ADDED', object);
  } else {
    // What matched at the start is what the client listed: seed from the state before the replay.
    const replay = store.history.filter((change) => change.resource === type && change.revision > Number(from));
    const changedKeys = new Set(replay.map((change) => key(change.object)));
    for (const object of store.list(type, namespace)) if (!changedKeys.has(key(object)) && matches(object)) shown.add(key(object));
    for (const change of replay) {
      const earlier = store.history.filter((entry) => entry.resource === type && entry.revision <= Number(from) && key(entry.object) === key(change.object)).at(-1);
      if (earlier && earlier.type !== 'DELETED' && matches(earlier.object)) shown.add(key(change.object));
    }
    for (const change of replay) deliver(change.type, change.object);
  }

  const onChange = (change: ChangeType, resource: ResourceType, object: K8sObject) => {
    if (resource === type) deliver(change, object);
  };
  store.on('change', onChange);
  const bookmarks =
    flag(url, 'allowWatchBookmarks')
      ? setInterval(() => send('BOOKMARK', { apiVersion: groupVersion(type), kind: type.kind, metadata: { resourceVersion: store.currentResourceVersion() } }), fake.bookmarkIntervalMs)
      : undefined;
  const seconds = Number(url.searchParams.get('timeoutSeconds') ?? '0');
  const timeout = seconds > 0 ? setTimeout(() => response.end(), seconds * 1000) : undefined;
  const stop = () => {
    store.off('change', onChange);
    clearInterval(bookmarks);
    clearTimeout(timeout);
  };
  response.on('close', stop);
  response.on('finish', stop);
}
