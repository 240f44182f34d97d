import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readPipelinePackage, MAX_PACKAGE_BYTES, type PipelinePackage } from '../../shared/kfp/package.js';
import { sameSpec } from '../../shared/kfp/same-spec.js';
import { tarEntries, zipEntries } from '../../shared/kfp/archive.js';
import { archiveFile, packageFile, v1Pipeline, v2Pipeline } from '../helpers/fake-kfp/packages.js';

async function read(file: string): Promise<PipelinePackage> {
  const result = await readPipelinePackage(file);
  if (typeof result === 'string') throw new Error(`expected a package, got: ${result}`);
  return result;
}

describe('readPipelinePackage: what the server accepts', () => {
  test('KFP v2 IR in YAML: its name and every declared parameter with type, default and optionality', async () => {
    const pkg = await read(packageFile(v2Pipeline()));
    expect(pkg.kind).toBe('v2');
    expect(pkg.name).toBe('tacos-vs-burritos');
    expect(pkg.documents).toHaveLength(1);
    expect(pkg.parameters).toEqual([
      { name: 'training_image', type: 'STRING', optional: false },
      { name: 'epochs', type: 'NUMBER_INTEGER', optional: false },
      { name: 'learning_rate', type: 'NUMBER_DOUBLE', optional: true, defaultValue: 0.01 },
      { name: 'use_gpu', type: 'BOOLEAN', optional: true, defaultValue: false },
      { name: 'layers', type: 'LIST', optional: true, defaultValue: [64, 32] },
      { name: 'hparams', type: 'STRUCT', optional: true },
      { name: 'notify', type: 'STRING', optional: true, defaultValue: '' },
    ]);
  });

  test('the same IR as JSON', async () => {
    const pkg = await read(packageFile(JSON.stringify(parse(v2Pipeline())), 'pipeline.json'));
    expect(pkg.kind).toBe('v2');
    expect(pkg.parameters).toHaveLength(7);
  });

  test('a second YAML document with platform settings is kept with the spec', async () => {
    const pkg = await read(packageFile(v2Pipeline({ platformSpec: true }), 'pipeline.yml'));
    expect(pkg.documents).toHaveLength(2);
    expect(pkg.documents[1]).toHaveProperty('platforms.kubernetes');
  });

  test('a KFP v1 Argo workflow: the name from its pipeline_spec annotation, parameters from spec.arguments', async () => {
    const pkg = await read(packageFile(v1Pipeline({ name: 'sample-v1' })));
    expect(pkg.kind).toBe('v1');
    expect(pkg.name).toBe('sample-v1');
    expect(pkg.parameters).toEqual([
      { name: 'image-tag', type: 'STRING', optional: false, defaultValue: undefined },
      { name: 'epochs', type: 'STRING', optional: true, defaultValue: '5' },
      { name: 'model-name', type: 'STRING', optional: true, defaultValue: 'tacosandburritos' },
    ]);
  });

  test.each(['tar.gz', 'zip'] as const)('pipeline.yaml inside a .%s is what gets uploaded', async (kind) => {
    const archive = archiveFile(kind, { 'pipeline.yaml': v2Pipeline(), 'README.md': 'not this' });
    const pkg = await read(archive);
    expect(pkg.content.toString()).toBe(v2Pipeline());
    expect(pkg.name).toBe('tacos-vs-burritos');
  });

  test('a .tgz and a zip with a stored (uncompressed) entry', async () => {
    const tgz = join(mkdtempSync(join(tmpdir(), 'mlops-tgz-')), 'package.tgz');
    execFileSync('cp', [archiveFile('tar.gz', { 'pipeline.yaml': v1Pipeline() }), tgz]);
    expect((await read(tgz)).kind).toBe('v1');
    const dir = mkdtempSync(join(tmpdir(), 'mlops-zip0-'));
    writeFileSync(join(dir, 'pipeline.yaml'), v2Pipeline());
    execFileSync('zip', ['-q', '-0', 'stored.zip', 'pipeline.yaml'], { cwd: dir });
    expect((await read(join(dir, 'stored.zip'))).kind).toBe('v2');
  });

  test('the tar reader follows GNU long names and ustar prefixes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-tar-'));
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    execFileSync('mkdir', ['-p', join(dir, deep)]);
    writeFileSync(join(dir, deep, 'pipeline.yaml'), 'x: 1\n');
    writeFileSync(join(dir, 'pipeline.yaml'), 'y: 2\n');
    execFileSync('tar', ['--format=gnu', '-cf', 'gnu.tar', 'pipeline.yaml', deep], { cwd: dir });
    execFileSync('tar', ['--format=ustar', '-cf', 'ustar.tar', 'pipeline.yaml', deep], { cwd: dir });
    for (const name of ['gnu.tar', 'ustar.tar']) {
      const entries = tarEntries(execFileSync('cat', [join(dir, name)]));
      expect(entries.get('pipeline.yaml')?.toString()).toBe('y: 2\n');
      expect(entries.get(`${deep}/pipeline.yaml`)?.toString()).toBe('x: 1\n');
    }
  });

  test('a zip whose entry unpacks beyond the limit is refused before it fills the memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-bomb-'));
    writeFileSync(join(dir, 'pipeline.yaml'), Buffer.alloc(2 * 1024 * 1024, 0x20));
    execFileSync('zip', ['-q', 'bomb.zip', 'pipeline.yaml'], { cwd: dir });
    expect(() => zipEntries(execFileSync('cat', [join(dir, 'bomb.zip')]), 1024 * 1024)).toThrow(/unpacks to more than 1 MB/);
  });
});

describe('readPipelinePackage: one clear reason for what it refuses', () => {
  const reason = async (file: string) => {
    const result = await readPipelinePackage(file);
    if (typeof result !== 'string') throw new Error('expected a refusal');
    return result;
  };

  test('a file that is not YAML', async () => {
    expect(await reason(packageFile('{{{ not yaml: ['))).toMatch(/^is not YAML or JSON: /);
  });

  test('YAML that is no pipeline', async () => {
    expect(await reason(packageFile('just: a map\n'))).toMatch(/is neither KFP v2 IR .* nor a KFP v1 Argo Workflow/);
    expect(await reason(packageFile('- a list\n'))).toBe('is not a pipeline: expected a YAML or JSON mapping');
  });

  test('v2 IR with a schemaVersion other than 2.1.0', async () => {
    expect(await reason(packageFile(v2Pipeline({ schemaVersion: '2.0.0' })))).toBe(
      'has schemaVersion 2.0.0; KFP 2.x runs 2.1.0: compile it with the kfp 2.x SDK',
    );
  });

  test('incomplete IR names what is missing', async () => {
    const ir = parse(v2Pipeline()) as Record<string, unknown>;
    delete ir.deploymentSpec;
    expect(await reason(packageFile(JSON.stringify(ir), 'p.json'))).toBe('is not complete KFP v2 IR: deploymentSpec missing');
  });

  test('a package over 32 MB (a sparse file: only its size is read)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlops-big-')), 'pipeline.yaml');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, MAX_PACKAGE_BYTES + 1024 * 1024);
    closeSync(fd);
    expect(await reason(file)).toBe('is 33.0 MB; Kubeflow accepts packages of at most 32 MB');
  });

  test.each(['tar.gz', 'zip'] as const)('a .%s without pipeline.yaml says what it holds', async (kind) => {
    expect(await reason(archiveFile(kind, { 'pipelines/train.yaml': v2Pipeline() }))).toBe('holds no pipeline.yaml at its top level (it holds pipelines/train.yaml)');
  });

  test('an archive that is not one, and a file of another kind', async () => {
    expect(await reason(packageFile('plain text', 'package.tar.gz'))).toBe('is not a readable .tar.gz archive: not a gzip-compressed file');
    expect(await reason(packageFile('plain text', 'package.zip'))).toBe('is not a readable .zip archive: not a zip archive');
    expect(await reason(packageFile(v2Pipeline(), 'pipeline.txt'))).toMatch(/^must be a \.yaml, \.yml or \.json file/);
  });

  test('a second document that is not a platform spec, and three documents', async () => {
    expect(await reason(packageFile(`${v2Pipeline()}---\nother: thing\n`))).toMatch(/second YAML document that is not a platform spec/);
    expect(await reason(packageFile(`${v2Pipeline({ platformSpec: true })}---\nplatforms: {}\n`))).toMatch(/more than two YAML documents/);
  });
});

describe('sameSpec: the stored spec against the package', () => {
  const documents = () => [parse(v2Pipeline()) as Record<string, any>];

  test('equal after the server re-marshals it: defaults dropped, keys reordered, int64 as text, pipeline name rewritten', () => {
    const stored = JSON.parse(JSON.stringify(documents()[0])) as Record<string, any>;
    stored.pipelineInfo.name = 'namespace/team/pipeline/tacos-vs-burritos';
    stored.root.dag.tasks.train.cachingOptions = undefined;
    stored.root.inputDefinitions.parameters.use_gpu = { isOptional: true, parameterType: 'BOOLEAN' };
    stored.root.inputDefinitions.parameters.layers.defaultValue = ['64', '32'];
    const reordered = Object.fromEntries(Object.entries(stored).reverse());
    expect(sameSpec([reordered], documents())).toBe(true);
  });

  test('different when a step changes', () => {
    const changed = documents();
    changed[0]!.deploymentSpec.executors['exec-train'].container.image = 'other:image';
    expect(sameSpec(changed, documents())).toBe(false);
  });

  test('different when a platform spec is added', () => {
    expect(sameSpec([...documents(), { platforms: { kubernetes: {} } }], documents())).toBe(false);
  });
});
