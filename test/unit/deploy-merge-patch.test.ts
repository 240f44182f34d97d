import { applyMergePatch, identityChange, parseManifestPatch } from '../../shared/deploy/merge-patch.js';

const service = {
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'iris', namespace: 'models', labels: { app: 'iris', team: 'ml' } },
  spec: {
    predictor: {
      minReplicas: 1,
      model: { modelFormat: { name: 'sklearn' }, storageUri: 'gs://bucket/iris', args: ['--workers', '2'] },
    },
  },
};

describe('parseManifestPatch', () => {
  test('reads YAML', () => {
    expect(parseManifestPatch('spec:\n  predictor:\n    minReplicas: 2\n    # a comment\n    tolerations:\n      - key: gpu\n')).toEqual({
      spec: { predictor: { minReplicas: 2, tolerations: [{ key: 'gpu' }] } },
    });
  });

  test('reads JSON, nulls included', () => {
    expect(parseManifestPatch('{"metadata": {"labels": {"team": null}}}')).toEqual({ metadata: { labels: { team: null } } });
  });

  test('empty text or comments only is the empty patch', () => {
    expect(parseManifestPatch('')).toEqual({});
    expect(parseManifestPatch('# nothing yet\n')).toEqual({});
  });

  test('a syntax error gives line and column, not the text', () => {
    const problem = parseManifestPatch('spec:\n  predictor: [1, 2\n  secretValue: hunter22\n');
    expect(typeof problem).toBe('string');
    expect(problem).toMatch(/^line \d+, column \d+: /);
    expect(problem).not.toContain('hunter22');
    expect(problem).not.toContain('\n');
  });

  test('a bad indent names its line', () => {
    expect(parseManifestPatch('spec:\n  a: 1\n b: 2\n')).toMatch(/^line 3, column \d+: /);
  });

  test('a duplicate key is an error, not a silent overwrite', () => {
    expect(parseManifestPatch('spec: {}\nmetadata: {}\nspec: {}\n')).toMatch(/^line 3, column 1: .*unique/);
  });

  test('more than one document', () => {
    expect(parseManifestPatch('a: 1\n---\nb: 2\n')).toMatch(/^line \d+, column \d+: holds more than one document/);
  });

  test('must be a mapping', () => {
    expect(parseManifestPatch('- a\n- b\n')).toBe("must be a mapping of fields (such as 'spec: ...'), not a list");
    expect(parseManifestPatch('just words')).toBe("must be a mapping of fields (such as 'spec: ...'), not a string");
    expect(parseManifestPatch('42')).toBe("must be a mapping of fields (such as 'spec: ...'), not a number");
    expect(parseManifestPatch('null')).toBe("must be a mapping of fields (such as 'spec: ...'), not null");
  });

  test('refuses an alias bomb', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    expect(parseManifestPatch(lines.join('\n'))).toMatch(/^cannot be read: /);
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  // The examples of RFC 7386 appendix A.
  test.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  test('patches a manifest: deep merge, arrays replaced, fields deleted, inputs untouched', () => {
    const before = structuredClone(service);
    const patch = parseManifestPatch(
      'metadata:\n  labels:\n    team: null\n    tier: gold\nspec:\n  predictor:\n    minReplicas: 2\n    model:\n      args: ["--workers", "4"]\n',
    );
    if (typeof patch === 'string') throw new Error(patch);
    const patchCopy = structuredClone(patch);
    const after = applyMergePatch(service, patch);
    expect(after).toEqual({
      ...service,
      metadata: { name: 'iris', namespace: 'models', labels: { app: 'iris', tier: 'gold' } },
      spec: {
        predictor: {
          minReplicas: 2,
          model: { modelFormat: { name: 'sklearn' }, storageUri: 'gs://bucket/iris', args: ['--workers', '4'] },
        },
      },
    });
    expect(service).toEqual(before);
    expect(patch).toEqual(patchCopy);
    // The result shares no arrays with the patch: later edits to one cannot leak into the other.
    (after.spec as { predictor: { model: { args: string[] } } }).predictor.model.args.push('x');
    expect(patch).toEqual(patchCopy);
  });

  test('a __proto__ key stays a field and never reaches the prototype', () => {
    const patch = parseManifestPatch('__proto__:\n  polluted: yes\n');
    if (typeof patch === 'string') throw new Error(patch);
    const after = applyMergePatch({ a: 1 }, patch);
    expect(Object.getPrototypeOf(after)).toBe(Object.prototype);
    expect(Object.keys(after)).toEqual(['a', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((after as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('identityChange', () => {
  test('undefined when the patch tunes the object only', () => {
    expect(identityChange(service, applyMergePatch(service, { spec: { predictor: { minReplicas: 3 } } }))).toBeUndefined();
    expect(identityChange(service, service)).toBeUndefined();
  });

  test('names a changed kind', () => {
    expect(identityChange(service, applyMergePatch(service, { kind: 'Deployment' }))).toBe('would change kind from InferenceService to Deployment');
  });

  test('names every identity field that changes', () => {
    const after = applyMergePatch(service, { apiVersion: 'apps/v1', metadata: { name: 'iris-2', namespace: null } });
    expect(identityChange(service, after)).toBe(
      'would change apiVersion from serving.kserve.io/v1beta1 to apps/v1, and change metadata.name from iris to iris-2, and remove metadata.namespace (was models)',
    );
  });

  test('setting a namespace that was not set moves the object too', () => {
    const before = { ...service, metadata: { name: 'iris' } };
    expect(identityChange(before, applyMergePatch(before, { metadata: { namespace: 'prod' } }))).toBe(
      'would set metadata.namespace to prod (it was not set)',
    );
  });

  test('a non-string value is shown as JSON', () => {
    expect(identityChange(service, applyMergePatch(service, { metadata: { name: { x: 1 } } }))).toBe('would change metadata.name from iris to {"x":1}');
  });
});
