import { yamlDiff } from '../../shared/deploy/diff.js';

const before = {
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'iris', namespace: 'models', labels: { app: 'iris' } },
  spec: { predictor: { minReplicas: 1, model: { modelFormat: { name: 'sklearn' }, storageUri: 'gs://b/iris/1' } } },
};

/** The same object as the server hands it back: its own fields added, keys in another order. */
const fromServer = {
  status: { conditions: [{ type: 'Ready', status: 'True' }], url: 'http://iris.models.example.com' },
  spec: { predictor: { model: { storageUri: 'gs://b/iris/1', modelFormat: { name: 'sklearn' } }, minReplicas: 1 } },
  metadata: {
    uid: '3c1f', resourceVersion: '4711', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z',
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    labels: { app: 'iris' }, namespace: 'models', name: 'iris',
  },
  kind: 'InferenceService',
  apiVersion: 'serving.kserve.io/v1beta1',
};

describe('yamlDiff', () => {
  test('empty when equal, whatever the key order and the server-owned fields', () => {
    expect(yamlDiff(before, structuredClone(before))).toBe('');
    expect(yamlDiff(fromServer, before)).toBe('');
  });

  test('one changed line, with three lines of context and a unified header', () => {
    const after = structuredClone(before);
    after.spec.predictor.model.storageUri = 'gs://b/iris/2';
    expect(yamlDiff(before, after)).toBe(
      [
        '@@ -11,4 +11,4 @@',
        '     model:',
        '       modelFormat:',
        '         name: sklearn',
        '-      storageUri: gs://b/iris/1',
        '+      storageUri: gs://b/iris/2',
      ].join('\n'),
    );
  });

  test('added and removed keys, against what the server returned', () => {
    const after = structuredClone(before) as typeof before & { spec: { predictor: { maxReplicas?: number } } };
    after.spec.predictor.maxReplicas = 3;
    delete (after.metadata as { labels?: unknown }).labels;
    expect(yamlDiff(fromServer, after)).toBe(
      [
        '@@ -1,12 +1,11 @@',
        ' apiVersion: serving.kserve.io/v1beta1',
        ' kind: InferenceService',
        ' metadata:',
        '-  labels:',
        '-    app: iris',
        '   name: iris',
        '   namespace: models',
        ' spec:',
        '   predictor:',
        '+    maxReplicas: 3',
        '     minReplicas: 1',
        '     model:',
        '       modelFormat:',
      ].join('\n'),
    );
  });

  test('changes far apart make separate hunks', () => {
    const list = (n: number, changed: number[]) => ({ items: Array.from({ length: n }, (_, i) => (changed.includes(i) ? `new${i}` : `item${i}`)) });
    const diff = yamlDiff(list(40, []), list(40, [2, 30]));
    expect(diff.split('\n').filter((line) => line.startsWith('@@'))).toEqual(['@@ -1,7 +1,7 @@', '@@ -29,7 +29,7 @@']);
    expect(diff).toContain('-  - item2\n+  - new2');
    expect(diff).toContain('-  - item30\n+  - new30');
    // Six unchanged lines between two changes: one hunk, as diff(1) makes it; seven: two.
    expect(yamlDiff(list(40, []), list(40, [10, 18])).split('\n').filter((line) => line.startsWith('@@'))).toHaveLength(2);
    expect(yamlDiff(list(40, []), list(40, [10, 17])).split('\n').filter((line) => line.startsWith('@@'))).toEqual(['@@ -9,14 +9,14 @@']);
  });

  test('nothing before: everything is added', () => {
    expect(yamlDiff(undefined, { kind: 'Service', metadata: { name: 'x' } })).toBe(
      ['@@ -0,0 +1,3 @@', '+kind: Service', '+metadata:', '+  name: x'].join('\n'),
    );
  });

  test('a long string is one line, not folded', () => {
    const long = 'x'.repeat(300);
    expect(yamlDiff({ a: 1 }, { a: long })).toBe(['@@ -1,1 +1,1 @@', '-a: 1', `+a: ${long}`].join('\n'));
  });

  test('a huge diff is cut at about 200 lines with a note', () => {
    const many = (prefix: string) => Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${String(i).padStart(3, '0')}`, `${prefix}${i}`]));
    const diff = yamlDiff(many('a'), many('b'));
    const lines = diff.split('\n');
    expect(lines).toHaveLength(201);
    expect(lines[200]).toBe('… 401 more lines');
    expect(lines[0]).toBe('@@ -1,300 +1,300 @@');
  });

  test('status and server metadata are ignored only where the server puts them', () => {
    expect(yamlDiff({ spec: { status: 'a', uid: 1 } }, { spec: { status: 'b', uid: 1 } })).toContain('+  status: b');
    expect(yamlDiff({ metadata: { name: 'x', uid: 'a' } }, { metadata: { name: 'x', uid: 'b' } })).toBe('');
    expect(yamlDiff({ spec: { metadata: { uid: 'a' } } }, { spec: { metadata: { uid: 'b' } } })).not.toBe('');
  });

  test('does not change its arguments', () => {
    const copy = structuredClone(fromServer);
    yamlDiff(fromServer, before);
    expect(fromServer).toEqual(copy);
  });
});
