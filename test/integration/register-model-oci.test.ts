import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { jest } from '@jest/globals';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { FakeServers } from '../helpers/fake-servers.js';
import { specsDir } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { skopeoCopyToDir, skopeoInspect, skopeoListTags, type SkopeoAccess } from '../helpers/skopeo.js';
import { RegistryClient } from '../../shared/registry/client.js';
import { parseImageName, type ImageName } from '../../shared/registry/reference.js';
import { CONTENT_DIGEST_KEY, type ModelFile, type PreparedModel, type TargetLog } from '../../shared/model/target.js';
import { contentTag, createOciTarget, type OciTargetOptions } from '../../shared/model/oci/target.js';
import { TarLayout } from '../../shared/model/oci/tar-layout.js';
import { uploadBlob } from '../../shared/registry/blob-upload.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const SHA = 'a'.repeat(40);
const quietLog: TargetLog = { info: () => undefined, progress: () => undefined };
const signal = new AbortController().signal;
const tempDirs: string[] = [];

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A model folder: a ~20 MB weight (several chunks), a config, a README and a nested tokenizer. */
function writeModelFolder(weightMiB = 20): string {
  const dir = tempDir('mlops-oci-model-');
  mkdirSync(join(dir, 'tokenizer'));
  writeFileSync(join(dir, 'model.safetensors'), randomBytes(weightMiB * MiB + 123));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['TacoNet'], hidden_size: 8 }));
  writeFileSync(join(dir, 'README.md'), '# tacos vs burritos\n');
  writeFileSync(join(dir, 'tokenizer', 'tokenizer.json'), '{"vocab":{}}');
  return dir;
}

/** What the task's preparation gives a target, computed here independently of the target. */
function prepare(dir: string, overrides: Partial<PreparedModel> = {}): PreparedModel {
  const paths = ['README.md', 'config.json', 'model.safetensors', 'tokenizer/tokenizer.json'];
  const files: ModelFile[] = paths.map((path) => {
    const data = readFileSync(join(dir, path));
    return { path, absolutePath: join(dir, path), size: data.length, digest: sha256(data) };
  });
  const contentDigest = sha256(files.map((file) => `${file.path} ${file.size} ${file.digest}\n`).join(''));
  return {
    name: 'tacos',
    requestedVersion: '',
    description: 'tacos vs burritos',
    tags: new Map([
      ['team', 'vision'],
      ['mlops-tasks.source-repository', 'https://github.com/example/tacos'],
      ['mlops-tasks.source-commit', SHA],
      ['mlops-tasks.ci-run-url', 'https://github.com/example/tacos/actions/runs/1'],
      ['mlops-tasks.kfp-run-id', 'run-42'],
    ]),
    modelType: 'custom_model',
    singleFile: false,
    files,
    contentDigest,
    ...overrides,
  };
}

function image(name: string): ImageName {
  const parsed = parseImageName(name);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

/** The manifest as skopeo fetches it, and its digest computed here from the raw bytes. */
async function skopeoRaw(reference: string, access: SkopeoAccess): Promise<Record<string, any> & { digestOfRaw: string }> {
  const args = ['inspect', '--raw', `--tls-verify=${access.tlsVerify}`, ...(access.certDir ? ['--cert-dir', access.certDir] : []), ...(access.creds ? ['--creds', access.creds] : [])];
  const { stdout } = await run('skopeo', [...args, `docker://${reference}`]);
  return Object.defineProperty(JSON.parse(stdout), 'digestOfRaw', { value: sha256(stdout), enumerable: false });
}

/** A reverse proxy in front of the registry that records every request, and can refuse some. */
async function recordingProxy(servers: FakeServers, upstream: string, refuse?: (req: http.IncomingMessage) => number | undefined) {
  const seen: { method: string; path: string }[] = [];
  const running = await servers.http((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '' });
    const status = refuse?.(req);
    if (status) {
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"refused by the test"}]}'));
      return;
    }
    const forward = http.request(`http://${upstream}${req.url}`, { method: req.method, headers: { ...req.headers, host: upstream } }, (answer) => {
      const headers = { ...answer.headers };
      // Locations name the registry's own address: point them back at the proxy.
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`http://${upstream}`, '');
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  return { host: `127.0.0.1:${running.port}`, seen };
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('oci target against the real distribution registry', () => {
  let registry: TestRegistry;
  let servers: FakeServers;
  const plain: SkopeoAccess = { tlsVerify: false };

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(() => {
    servers = new FakeServers();
  });
  afterEach(async () => {
    await servers.close();
  });

  function target(host: string, repository: string, extra: Partial<OciTargetOptions> = {}) {
    return createOciTarget({
      client: new RegistryClient({ registry: host, insecure: true }),
      repository: image(`${host}/${repository}`),
      defaultVersion: SHA,
      chunkSize: CHUNK,
      ...extra,
    });
  }

  test('pushes a ModelPack artifact that skopeo reads, with valid config, annotations and blobs; a re-run reuses it', async () => {
    const dir = writeModelFolder();
    const model = prepare(dir);
    const proxy = await recordingProxy(servers, registry.host);
    const progress: number[] = [];
    const log: TargetLog = { info: () => undefined, progress: (percent) => progress.push(percent) };
    const result = await target(proxy.host, 'models/tacos').register(model, log, signal);

    const manifest = await skopeoRaw(`${registry.host}/models/tacos:${SHA}`, plain);
    expect(result).toEqual({ name: 'tacos', version: SHA, uri: `oci://${proxy.host}/models/tacos@${manifest.digestOfRaw}`, reused: false });
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
    const byPath = Object.fromEntries((manifest.layers as any[]).map((layer) => [layer.annotations['org.cncf.model.filepath'], layer]));
    expect(Object.keys(byPath)).toEqual(['README.md', 'config.json', 'model.safetensors', 'tokenizer/tokenizer.json']);
    expect(byPath['model.safetensors'].mediaType).toBe('application/vnd.cncf.model.weight.v1.raw');
    expect(byPath['config.json'].mediaType).toBe('application/vnd.cncf.model.weight.config.v1.raw');
    expect(byPath['tokenizer/tokenizer.json'].mediaType).toBe('application/vnd.cncf.model.weight.config.v1.raw');
    expect(byPath['README.md'].mediaType).toBe('application/vnd.cncf.model.doc.v1.raw');
    expect(JSON.parse(byPath['README.md'].annotations['org.cncf.model.file.metadata+json'])).toMatchObject({ name: 'README.md', size: 20, typeflag: 48 });
    for (const file of model.files) expect(byPath[file.path]).toMatchObject({ digest: file.digest, size: file.size });
    expect(manifest.annotations).toMatchObject({
      [CONTENT_DIGEST_KEY]: model.contentDigest,
      team: 'vision',
      'mlops-tasks.kfp-run-id': 'run-42',
      'mlops-tasks.ci-run-url': 'https://github.com/example/tacos/actions/runs/1',
      'org.opencontainers.image.source': 'https://github.com/example/tacos',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': SHA,
    });

    // Every blob back from the registry, compared by digest with the files on disk.
    const reader = new RegistryClient({ registry: registry.host, insecure: true });
    for (const file of model.files) expect(sha256(await reader.getBlob('models/tacos', file.digest))).toBe(sha256(readFileSync(file.absolutePath)));
    const configBlob = await reader.getBlob('models/tacos', manifest.config.digest);
    const config = JSON.parse(configBlob.toString('utf8'));
    expect(config.descriptor).toMatchObject({ name: 'tacos', version: SHA, revision: SHA, sourceURL: 'https://github.com/example/tacos' });
    expect(config.modelfs.diffIds).toEqual((manifest.layers as any[]).map((layer) => layer.digest));

    // The 20 MB weight went in 4 MiB chunks; everything else in one PUT each.
    const patches = proxy.seen.filter((request) => request.method === 'PATCH');
    expect(patches.length).toBe(Math.ceil(byPath['model.safetensors'].size / CHUNK));
    expect(progress.at(-1)).toBe(100);
    expect(await skopeoListTags(`${registry.host}/models/tacos`, plain)).toEqual(expect.arrayContaining([SHA, contentTag(model.contentDigest)]));

    // Same content again: nothing is uploaded, not even a config.
    proxy.seen.length = 0;
    const again = await target(proxy.host, 'models/tacos').register(model, quietLog, signal);
    expect(again).toEqual({ ...result, reused: true });
    expect(proxy.seen.filter((request) => request.method !== 'GET' && request.method !== 'HEAD')).toEqual([]);

    // Same content under a new version: only a tag is added, pointing at the same manifest.
    proxy.seen.length = 0;
    const renamed = await target(proxy.host, 'models/tacos').register({ ...model, requestedVersion: 'v2' }, quietLog, signal);
    expect(renamed).toEqual({ ...result, version: 'v2', reused: true });
    expect(proxy.seen.filter((request) => request.method !== 'GET' && request.method !== 'HEAD')).toEqual([{ method: 'PUT', path: '/v2/models/tacos/manifests/v2' }]);
  });

  test('contract: the config validates against the ModelPack config schema', async () => {
    const specs = specsDir();
    if (!specs) {
      console.log('skipped: no specs dir (set MLOPS_SPECS_DIR or check out ../shared/specs)');
      return;
    }
    const dir = writeModelFolder(1);
    const model = prepare(dir);
    await target(registry.host, 'models/schema').register(model, quietLog, signal);
    const manifest = await skopeoRaw(`${registry.host}/models/schema:${SHA}`, plain);
    const reader = new RegistryClient({ registry: registry.host, insecure: true });
    const config = JSON.parse((await reader.getBlob('models/schema', manifest.config.digest)).toString('utf8'));

    const schema = JSON.parse(readFileSync(join(specs, 'modelpack/config-schema.json'), 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
    (addFormats as unknown as typeof addFormats.default)(ajv);
    const validate = ajv.compile(schema);
    expect(validate(config) ? [] : validate.errors).toEqual([]);
    // The validator does reject: a config without modelfs is not valid.
    expect(validate({ descriptor: config.descriptor, config: config.config })).toBe(false);
    expect(validate({ ...config, descriptor: { ...config.descriptor, createdAt: 'yesterday' } })).toBe(false);

  });

  test('a changed file makes a new version; a requested version that exists with other content fails and pushes nothing', async () => {
    const dir = writeModelFolder(1);
    const first = await target(registry.host, 'models/changes').register(prepare(dir, { requestedVersion: 'v1' }), quietLog, signal);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['BurritoNet'] }));
    const changed = prepare(dir);
    const second = await target(registry.host, 'models/changes').register({ ...changed, requestedVersion: 'v2' }, quietLog, signal);
    expect(second.reused).toBe(false);
    expect(second.uri).not.toBe(first.uri);

    const proxy = await recordingProxy(servers, registry.host);
    const tagsBefore = await skopeoListTags(`${registry.host}/models/changes`, plain);
    await expect(target(proxy.host, 'models/changes').register({ ...changed, requestedVersion: 'v1' }, quietLog, signal)).rejects.toThrow(
      /version 'v1' of .*models\/changes already exists with other content/,
    );
    expect(proxy.seen.filter((request) => request.method !== 'GET' && request.method !== 'HEAD')).toEqual([]);
    expect(await skopeoListTags(`${registry.host}/models/changes`, plain)).toEqual(tagsBefore);
  });

  test('a file that shrinks mid-upload, or one whose content changed, leaves no tag', async () => {
    const dir = writeModelFolder(12);
    const model = prepare(dir);
    truncateSync(join(dir, 'model.safetensors'), 6 * MiB);
    await expect(target(registry.host, 'models/broken').register(model, quietLog, signal)).rejects.toThrow(/model file 'model.safetensors' is shorter than when it was hashed/);
    expect(await skopeoListTags(`${registry.host}/models/broken`, plain)).toEqual([]);

    const other = writeModelFolder(1);
    const stale = prepare(other);
    // Same size, other bytes: only the registry's digest check can tell.
    writeFileSync(join(other, 'model.safetensors'), randomBytes(stale.files[2]!.size));
    await expect(target(registry.host, 'models/broken').register(stale, quietLog, signal)).rejects.toThrow(/refused model file 'model.safetensors'.*does not match/);
    expect(await skopeoListTags(`${registry.host}/models/broken`, plain)).toEqual([]);
  });

  test('a refused chunk is resumed; a registry that keeps refusing PATCH leaves no tag', async () => {
    const dir = writeModelFolder(10);
    const model = prepare(dir);
    let refusals = 1;
    const flaky = await recordingProxy(servers, registry.host, (req) => (req.method === 'PATCH' && refusals-- > 0 ? 503 : undefined));
    const pushed = await target(flaky.host, 'models/flaky').register(model, quietLog, signal);
    expect(pushed.reused).toBe(false);
    expect(flaky.seen.filter((request) => request.method === 'PATCH').length).toBe(Math.ceil(model.files[2]!.size / CHUNK) + 1);

    const refusing = await recordingProxy(servers, registry.host, (req) => (req.method === 'PATCH' ? 500 : undefined));
    await expect(target(refusing.host, 'models/refused').register(model, quietLog, signal)).rejects.toThrow(/uploading model file 'model.safetensors' to models\/refused failed/);
    expect(refusing.seen.some((request) => request.method === 'DELETE')).toBe(true);
    expect(await skopeoListTags(`${registry.host}/models/refused`, plain)).toEqual([]);
  });

  test('blobs another repository of the registry holds are mounted, not uploaded', async () => {
    const dir = writeModelFolder(1);
    const model = prepare(dir);
    await target(registry.host, 'models/origin').register(model, quietLog, signal);
    const proxy = await recordingProxy(servers, registry.host);
    const mounted = target(proxy.host, 'models/copy', { mountFrom: ['models/origin'] });
    await mounted.register(model, quietLog, signal);
    // Only the config (it carries its own creation time) is uploaded.
    expect(mounted.lastCounts()).toMatchObject({ mounted: 4, uploaded: 1 });
    expect(proxy.seen.filter((request) => request.method === 'PATCH' || /digest=/.test(request.path))).toHaveLength(1);
  });

  test('modelcar: base layers plus one tar layer with the files under models/', async () => {
    const base = await pushBaseIndex(registry.host, 'base/busybox');
    const dir = writeModelFolder(1);
    const model = prepare(dir);
    const car = target(registry.host, 'models/car', { modelcarBase: `${registry.host}/base/busybox:1` });
    const result = await car.register(model, quietLog, signal);
    expect(result.reused).toBe(false);

    const inspected = await skopeoInspect(`${registry.host}/models/car:${SHA}-modelcar`, plain);
    expect(inspected.Layers.slice(0, -1)).toEqual(base.layers);
    expect(inspected.Layers).toHaveLength(base.layers.length + 1);
    const copy = tempDir('mlops-oci-modelcar-');
    await skopeoCopyToDir(`${registry.host}/models/car:${SHA}-modelcar`, copy, plain);
    const layerFile = join(copy, inspected.Layers.at(-1)!.replace('sha256:', ''));
    const { stdout } = await run('tar', ['-tvf', layerFile]);
    const names = stdout.trim().split('\n').map((line) => line.split(/\s+/).at(-1));
    expect(names).toEqual(['models/', 'models/README.md', 'models/config.json', 'models/model.safetensors', 'models/tokenizer/', 'models/tokenizer/tokenizer.json']);
    const extracted = tempDir('mlops-oci-extract-');
    await run('tar', ['-xf', layerFile, '-C', extracted]);
    for (const file of model.files) expect(sha256(readFileSync(join(extracted, 'models', file.path)))).toBe(file.digest);
    const config = JSON.parse(readFileSync(join(copy, (await skopeoRaw(`${registry.host}/models/car:${SHA}-modelcar`, plain)).config.digest.replace('sha256:', '')), 'utf8'));
    expect(config.rootfs.diff_ids).toEqual([...base.diffIds, inspected.Layers.at(-1)]);
    expect(config.config.Entrypoint).toEqual(['/bin/sh']);

    const again = await car.register(model, quietLog, signal);
    expect(again).toEqual({ ...result, reused: true });
    expect(car.lastCounts()).toMatchObject({ uploaded: 0 });
  });
});

describe('oci target over TLS with htpasswd (throwaway CA)', () => {
  let ca: TestCa;
  let registry: TestRegistry;

  beforeAll(async () => {
    ca = makeTestCa();
    registry = await startRegistry({ tls: ca, users: { trainer: 's3cret-pass' } });
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(ca.dir, { recursive: true, force: true });
  });

  test('pushes with basic auth over TLS and skopeo reads it back', async () => {
    const dir = writeModelFolder(1);
    const model = prepare(dir);
    const client = new RegistryClient({ registry: registry.host, ca: ca.caPem, credentials: { username: 'trainer', password: 's3cret-pass' } });
    const result = await createOciTarget({ client, repository: image(`${registry.host}/secure/tacos`), defaultVersion: SHA }).register(model, quietLog, signal);
    const certDir = tempDir('mlops-oci-certs-');
    writeFileSync(join(certDir, 'ca.crt'), ca.caPem);
    const access: SkopeoAccess = { tlsVerify: true, certDir, creds: 'trainer:s3cret-pass' };
    const manifest = await skopeoRaw(`${registry.host}/secure/tacos:${SHA}`, access);
    expect(manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(result.uri).toBe(`oci://${registry.host}/secure/tacos@${manifest.digestOfRaw}`);

    const wrong = new RegistryClient({ registry: registry.host, ca: ca.caPem, credentials: { username: 'trainer', password: 'wrong' } });
    const failure = createOciTarget({ client: wrong, repository: image(`${registry.host}/secure/other`), defaultVersion: SHA }).register(model, quietLog, signal);
    await expect(failure).rejects.toThrow(/refused the credentials/);
    await failure.catch((error: Error) => expect(error.message).not.toContain('wrong'));
  });
});

/**
 * A base image pushed with plain registry calls: a gzip layer holding busybox as /bin/sh, its
 * config, a linux/amd64 manifest and an index over it (so the target must resolve the index).
 */
async function pushBaseIndex(host: string, repository: string): Promise<{ layers: string[]; diffIds: string[] }> {
  const client = new RegistryClient({ registry: host, insecure: true });
  const root = tempDir('mlops-oci-base-');
  const tarFile = join(root, 'layer.tar');
  const source = new TarLayout('base layer', [{ path: 'bin/sh', absolutePath: '/usr/bin/busybox', size: readFileSync('/usr/bin/busybox').length }]);
  const tar = Buffer.alloc(source.size);
  await source.read(tar, tar.length, 0);
  writeFileSync(tarFile, tar);
  const layer = gzipSync(tar);
  const buffer = Buffer.alloc(64 * MiB);
  const blob = (data: Buffer) => uploadBlob(client, repository, { name: 'test blob', size: data.length, read: async (b, l, p) => data.copy(b, 0, p, p + l) }, { buffer });
  const layerDigest = await blob(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, history: [{ created_by: 'test' }] }));
  const configDigest = await blob(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
  }));
  const manifestDigest = await client.putManifest(repository, sha256(manifest), { body: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: '' });
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, platform: { os: 'linux', architecture: 'amd64' } }],
  }));
  await client.putManifest(repository, '1', { body: index, mediaType: 'application/vnd.oci.image.index.v1+json', digest: '' });
  return { layers: [layerDigest], diffIds: [sha256(tar)] };
}

jest.setTimeout(180_000);
