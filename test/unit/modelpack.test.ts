import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFiles } from '../../shared/model/files.js';
import { FILE_METADATA, FILEPATH, MEDIATYPE_UNTESTED } from '../../shared/model/oci/annotations.js';
import { manifestAnnotations, modelConfig, modelLayers, modelManifest, type Descriptor } from '../../shared/model/oci/artifact.js';
import {
  layerKindOf,
  MODEL_ARTIFACT_TYPE,
  MODEL_CODE_RAW,
  MODEL_CONFIG,
  MODEL_DOC_RAW,
  MODEL_WEIGHT_CONFIG_RAW,
  MODEL_WEIGHT_RAW,
} from '../../shared/model/oci/media-types.js';
import { TarLayout, type TarFile } from '../../shared/model/oci/tar-layout.js';
import type { ModelFile, PreparedModel } from '../../shared/model/target.js';
import { OCI_MANIFEST } from '../../shared/registry/media-types.js';
import { specsDir } from '../helpers/paths.js';

// The ModelPack artifact as built before any push: which media type each file gets, the layer
// annotations, the uncompressed tar the modelcar uses, and that equal input gives equal digests.

const scratch = mkdtempSync(join(tmpdir(), 'modelpack-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function folder(files: Record<string, string | Buffer>): string {
  const dir = join(scratch, `model-${++counter}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('ModelPack media types', () => {
  const specs = specsDir();
  const goFile = specs ? join(specs, 'modelpack/mediatype.go.txt') : undefined;
  if (!goFile) console.warn('SKIPPED the media-type names check: no ModelPack spec found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
  (goFile ? test : test.skip)('every media type we write is one the spec defines, under the name it gives it', () => {
    const defined = new Map([...readFileSync(goFile!, 'utf8').matchAll(/^\s*(\w+)\s*=\s*"([^"]+)"/gm)].map((match) => [match[1]!, match[2]!]));
    expect(defined.get('ArtifactTypeModelManifest')).toBe(MODEL_ARTIFACT_TYPE);
    expect(defined.get('MediaTypeModelConfig')).toBe(MODEL_CONFIG);
    expect(defined.get('MediaTypeModelWeightRaw')).toBe(MODEL_WEIGHT_RAW);
    expect(defined.get('MediaTypeModelWeightConfigRaw')).toBe(MODEL_WEIGHT_CONFIG_RAW);
    expect(defined.get('MediaTypeModelDocRaw')).toBe(MODEL_DOC_RAW);
    expect(defined.get('MediaTypeModelCodeRaw')).toBe(MODEL_CODE_RAW);
  });

  test.each([
    // Weights, by the formats' extensions, at any depth.
    ['model.safetensors', MODEL_WEIGHT_RAW],
    ['pytorch_model-00001-of-00002.bin', MODEL_WEIGHT_RAW],
    ['onnx/model.onnx', MODEL_WEIGHT_RAW],
    ['checkpoints/epoch-3.pt', MODEL_WEIGHT_RAW],
    ['model.Q4_K_M.gguf', MODEL_WEIGHT_RAW],
    ['model.pkl', MODEL_WEIGHT_RAW],
    // Configuration of the weights: config.json, tokenizer files, YAML.
    ['config.json', MODEL_WEIGHT_CONFIG_RAW],
    ['tokenizer.json', MODEL_WEIGHT_CONFIG_RAW],
    ['generation_config.json', MODEL_WEIGHT_CONFIG_RAW],
    ['tokenizer.model', MODEL_WEIGHT_CONFIG_RAW],
    ['conf/params.yaml', MODEL_WEIGHT_CONFIG_RAW],
    // Vocabularies are often .txt, yet they configure the weights: not documentation.
    ['vocab.txt', MODEL_WEIGHT_CONFIG_RAW],
    ['merges.txt', MODEL_WEIGHT_CONFIG_RAW],
    // Documentation: README, LICENSE, model cards, Markdown, plain text.
    ['README.md', MODEL_DOC_RAW],
    ['LICENSE', MODEL_DOC_RAW],
    ['docs/NOTICE', MODEL_DOC_RAW],
    ['MODEL_CARD.md', MODEL_DOC_RAW],
    ['notes/training.txt', MODEL_DOC_RAW],
    // Code shipped with the model.
    ['modeling_custom.py', MODEL_CODE_RAW],
    ['serve/handler.sh', MODEL_CODE_RAW],
  ])('%s is %s, classified by a rule', (path, mediaType) => {
    expect(layerKindOf(path)).toEqual({ mediaType, untested: false });
  });

  test.each(['weights', 'blob.xyz', 'data/shard-7'])('%s matches no rule: taken for weights and marked untested', (path) => {
    expect(layerKindOf(path)).toEqual({ mediaType: MODEL_WEIGHT_RAW, untested: true });
  });
});

describe('ModelPack layers and manifest', () => {
  const created = new Date('2026-01-02T03:04:05.000Z');

  function prepared(files: ModelFile[], contentDigest: string): PreparedModel {
    return {
      name: 'tacos',
      requestedVersion: '',
      description: 'tacos vs burritos',
      tags: new Map([['team', 'vision']]),
      modelType: 'pt',
      singleFile: false,
      files,
      contentDigest,
    };
  }

  /** The manifest as the oci target builds it, with the config descriptor of the config it pushes. */
  function build(files: ModelFile[], contentDigest: string): { layers: Descriptor[]; manifest: string; config: string } {
    const model = prepared(files, contentDigest);
    const layers = modelLayers(files);
    const config = JSON.stringify(modelConfig(model, 'v1', layers, created));
    const configDescriptor = { mediaType: '', digest: sha256(config), size: Buffer.byteLength(config) };
    const manifest = JSON.stringify(modelManifest(configDescriptor, layers, manifestAnnotations(model, 'v1', created)));
    return { layers, manifest, config };
  }

  test('one raw layer per file: the blob is the file, its path and attributes in the annotations', async () => {
    const dir = folder({ 'config.json': '{"layers": 3}', 'weights/model.safetensors': 'W'.repeat(1000), 'README.md': '# tacos\n', 'odd.xyz': 'x' });
    const read = await readModelFiles(dir);
    const layers = modelLayers(read.files);

    expect(layers.map((layer) => layer.annotations?.[FILEPATH])).toEqual(['README.md', 'config.json', 'odd.xyz', 'weights/model.safetensors']);
    expect(layers.map((layer) => layer.mediaType)).toEqual([MODEL_DOC_RAW, MODEL_WEIGHT_CONFIG_RAW, MODEL_WEIGHT_RAW, MODEL_WEIGHT_RAW]);
    // A raw layer's digest and size are those of the file's bytes, nothing wrapped around them.
    const weights = layers[3]!;
    expect(weights.digest).toBe(sha256('W'.repeat(1000)));
    expect(weights.size).toBe(1000);
    expect(JSON.parse(weights.annotations![FILE_METADATA]!)).toEqual({
      name: 'model.safetensors',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 1000,
      mtime: '1970-01-01T00:00:00Z',
      typeflag: 48,
    });
    expect(layers.map((layer) => layer.annotations?.[MEDIATYPE_UNTESTED])).toEqual([undefined, undefined, 'true', undefined]);
  });

  test('the manifest is a ModelPack artifact whose config lists the layer digests as DiffIDs', async () => {
    const read = await readModelFiles(folder({ 'model.onnx': 'onnx bytes', 'vocab.txt': 'a\nb\n' }));
    const { layers, manifest, config } = build(read.files, read.contentDigest);
    const parsed = JSON.parse(manifest) as Record<string, unknown> & { config: Descriptor; layers: Descriptor[]; annotations: Record<string, string> };
    expect(parsed.schemaVersion).toBe(2);
    expect(parsed.mediaType).toBe(OCI_MANIFEST);
    expect(parsed.artifactType).toBe(MODEL_ARTIFACT_TYPE);
    expect(parsed.config).toEqual({ mediaType: MODEL_CONFIG, digest: sha256(config), size: Buffer.byteLength(config) });
    expect(parsed.layers).toEqual(layers);
    expect(parsed.annotations['mlops-tasks.content-digest']).toBe(read.contentDigest);
    expect(parsed.annotations['org.opencontainers.image.created']).toBe(created.toISOString());
    const parsedConfig = JSON.parse(config) as { modelfs: { type: string; diffIds: string[] }; config: { format?: string } };
    expect(parsedConfig.modelfs).toEqual({ type: 'layers', diffIds: layers.map((layer) => layer.digest) });
    expect(parsedConfig.config.format).toBe('pt');
  });

  test('the same files, wherever they lie, give the same manifest digest; a changed byte changes it and that layer only', async () => {
    const files = { 'model.safetensors': Buffer.alloc(4096, 7), 'config.json': '{"a": 1}', 'docs/README.md': 'read me' };
    const first = await readModelFiles(folder(files));
    const second = await readModelFiles(folder(files));
    expect(first.files[0]!.absolutePath).not.toBe(second.files[0]!.absolutePath);
    const a = build(first.files, first.contentDigest);
    const b = build(second.files, second.contentDigest);
    expect(sha256(b.manifest)).toBe(sha256(a.manifest));
    expect(sha256(b.config)).toBe(sha256(a.config));

    const changedWeights = Buffer.alloc(4096, 7);
    changedWeights[2048] = 8; // same size, one byte different
    const changed = await readModelFiles(folder({ ...files, 'model.safetensors': changedWeights }));
    const c = build(changed.files, changed.contentDigest);
    expect(changed.contentDigest).not.toBe(first.contentDigest);
    expect(sha256(c.manifest)).not.toBe(sha256(a.manifest));
    const differing = c.layers.filter((layer, index) => layer.digest !== a.layers[index]!.digest).map((layer) => layer.annotations?.[FILEPATH]);
    expect(differing).toEqual(['model.safetensors']);
  });
});

describe('TarLayout (the modelcar layer)', () => {
  /** Reads a whole layout in pieces of `step` bytes, so reads start and end inside segments. */
  async function readAll(layout: TarLayout, step: number): Promise<Buffer> {
    const out = Buffer.alloc(layout.size);
    const buffer = Buffer.alloc(step);
    for (let position = 0; position < layout.size; ) {
      const length = Math.min(step, layout.size - position);
      const got = await layout.read(buffer, length, position);
      expect(got).toBe(length);
      buffer.copy(out, position, 0, got);
      position += got;
    }
    return out;
  }

  function tarFiles(dir: string, paths: string[], prefix = 'models/'): TarFile[] {
    return paths.map((path) => ({ path: `${prefix}${path}`, absolutePath: join(dir, path), size: readFileSync(join(dir, path)).length }));
  }

  const longName = `${'deep/'.repeat(25)}weights.bin`; // 136 characters: needs ustar's prefix field
  const tooLong = `${'x'.repeat(120)}/${'y'.repeat(110)}.bin`; // a 110-character name part: needs a PAX header
  const contents: Record<string, string | Buffer> = {
    'config.json': '{"layers": 3}',
    'model.safetensors': Buffer.alloc(1024, 1), // exactly two blocks: no padding
    'empty.txt': '',
    'sub/dir/vocab.txt': 'a\nb\nc\n',
    'naïve.md': 'non-ASCII name\n',
    [longName]: 'long',
    [tooLong]: 'longer',
  };
  const paths = Object.keys(contents).sort();

  test('GNU tar lists every entry with fixed owner, modes and mtime, parents before files, and extracts the same bytes', async () => {
    const dir = folder(contents);
    const layout = new TarLayout('a test layer', tarFiles(dir, paths));
    const bytes = await readAll(layout, 1000);
    expect(bytes.length).toBe(layout.size);
    expect(layout.size % 512).toBe(0);
    // The end of the archive: two zero blocks.
    expect(bytes.subarray(-1024).equals(Buffer.alloc(1024))).toBe(true);

    const archive = join(scratch, `layer-${++counter}.tar`);
    writeFileSync(archive, bytes);
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', archive], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } })
      .trim()
      .split('\n')
      .map((line) => {
        const [mode, owner, size, date, time, ...name] = line.split(/\s+/);
        return { mode, owner, size: Number(size), when: `${date} ${time}`, name: name.join(' ') };
      });
    const names = listing.map((entry) => entry.name);
    // Each folder once, before the first file inside it.
    for (const [index, name] of names.entries()) {
      const parent = name.replace(/\/?[^/]+\/?$/, '/');
      if (parent !== '/') expect(names.indexOf(parent)).toBeGreaterThanOrEqual(0);
      if (parent !== '/') expect(names.indexOf(parent)).toBeLessThan(index);
    }
    expect(new Set(names).size).toBe(names.length);
    const files = listing.filter((entry) => !entry.name.endsWith('/'));
    expect(files.map((entry) => entry.name)).toEqual(paths.map((path) => `models/${path}`));
    expect(files.map((entry) => entry.size)).toEqual(paths.map((path) => Buffer.from(contents[path]!).length));
    for (const entry of listing) {
      expect(entry.owner).toBe('0/0');
      expect(entry.when).toBe('1970-01-01 00:00:00');
      expect(entry.mode).toBe(entry.name.endsWith('/') ? 'drwxr-xr-x' : '-rw-r--r--');
    }

    const out = join(scratch, `extracted-${counter}`);
    mkdirSync(out);
    execFileSync('tar', ['-xf', archive, '-C', out]);
    for (const path of paths) expect(readFileSync(join(out, 'models', path)).equals(Buffer.from(contents[path]!))).toBe(true);
  });

  test('any range reads back the same bytes, so a resent chunk is the chunk first sent', async () => {
    const layout = new TarLayout('a test layer', tarFiles(folder(contents), paths));
    const whole = await readAll(layout, layout.size);
    expect((await readAll(layout, 777)).equals(whole)).toBe(true);
    const buffer = Buffer.alloc(3000);
    for (const position of [0, 511, 512, 1500, layout.size - 3000]) {
      expect(await layout.read(buffer, 3000, position)).toBe(3000);
      expect(buffer.equals(whole.subarray(position, position + 3000))).toBe(true);
    }
  });

  test('the same files give the same layer digest; a changed byte or a renamed file changes it', async () => {
    const digestOf = async (files: Record<string, string | Buffer>) => {
      const names = Object.keys(files).sort();
      const layout = new TarLayout('a test layer', tarFiles(folder(files), names));
      return sha256(await readAll(layout, 64 * 1024));
    };
    const first = await digestOf(contents);
    expect(await digestOf(contents)).toBe(first);
    expect(await digestOf({ ...contents, 'config.json': '{"layers": 4}' })).not.toBe(first);
    const { 'config.json': config, ...rest } = contents;
    expect(await digestOf({ ...rest, 'config2.json': config! })).not.toBe(first);
  });

  test('a file that shrank since it was listed fails the read instead of padding it silently', async () => {
    const dir = folder({ 'model.bin': 'x'.repeat(2000) });
    const layout = new TarLayout('a test layer', tarFiles(dir, ['model.bin']));
    writeFileSync(join(dir, 'model.bin'), 'x'.repeat(100));
    await expect(readAll(layout, layout.size)).rejects.toThrow(/shorter than when it was listed/);
  });
});
