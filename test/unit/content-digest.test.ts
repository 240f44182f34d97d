import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  computeContentDigest,
  type ContentDigest,
  type ContentDigestInput,
} from '../../shared/context/content-digest.js';
import { FileHasher } from '../../shared/context/file-hasher.js';
import { CancelledError, InputError } from '../../shared/util/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'content-digest-'));
// Readable by the unprivileged user some tests switch to.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh context folder with these files (a trailing '/' makes an empty folder). */
function makeContext(files: Record<string, string | Buffer>): string {
  const dir = join(scratch, `ctx-${++counter}`);
  mkdirSync(dir, { mode: 0o755 });
  for (const [path, content] of Object.entries(files)) write(dir, path, content);
  return dir;
}

function write(context: string, path: string, content: string | Buffer): void {
  const full = join(context, path);
  if (path.endsWith('/')) {
    mkdirSync(full, { recursive: true });
    return;
  }
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

const baseFiles = {
  Dockerfile: 'FROM python:3.12-slim\nCOPY . /app\n',
  'train.py': 'print("training")\n',
  'src/model.py': 'class Model: pass\n',
  'src/utils/io.py': 'def load(): pass\n',
  'data/': '',
};

function inputFor(context: string, overrides: Partial<ContentDigestInput> = {}): ContentDigestInput {
  return {
    context,
    dockerfile: join(context, 'Dockerfile'),
    buildArgs: new Map([['PYTHON', '3.12']]),
    target: '',
    platform: 'linux/amd64',
    ...overrides,
  };
}

const digestOf = (context: string, overrides: Partial<ContentDigestInput> = {}) =>
  computeContentDigest(inputFor(context, overrides));

/** The names of the parts that differ between two digests. */
function changedParts(a: ContentDigest, b: ContentDigest): string[] {
  const names = Object.keys(a.parts) as Array<keyof ContentDigest['parts']>;
  return names.filter((name) => a.parts[name] !== b.parts[name]);
}

/** Runs `fn` with the effective user 'nobody' when we are root, so file permissions bind. */
async function asUnprivileged<T>(fn: () => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0) return fn();
  process.setegid!(65534);
  process.seteuid!(65534);
  try {
    return await fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
}

describe('computeContentDigest: shape and stability', () => {
  test('every digest is sha256:<hex>, and counts regular files and their bytes', async () => {
    const result = await digestOf(makeContext(baseFiles));
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const part of Object.values(result.parts)) expect(part).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.fileCount).toBe(4);
    expect(result.bytes).toBe(Object.values(baseFiles).reduce((sum, text) => sum + Buffer.byteLength(text), 0));
  });

  test('is the same on two runs', async () => {
    const context = makeContext(baseFiles);
    expect(await digestOf(context)).toEqual(await digestOf(context));
  });

  test('is the same for a copy of the context at another path (new mtimes, same modes)', async () => {
    const context = makeContext(baseFiles);
    chmodSync(join(context, 'train.py'), 0o755);
    const copy = join(scratch, `copy-${++counter}`, 'elsewhere');
    mkdirSync(dirname(copy));
    cpSync(context, copy, { recursive: true });
    expect((await digestOf(copy)).digest).toBe((await digestOf(context)).digest);
  });

  test('ignores mtime and atime', async () => {
    const context = makeContext(baseFiles);
    const before = await digestOf(context);
    utimesSync(join(context, 'train.py'), new Date('2001-01-01'), new Date('2001-01-01'));
    utimesSync(join(context, 'src'), new Date('2002-02-02'), new Date('2002-02-02'));
    expect(await digestOf(context)).toEqual(before);
  });

  test('buildArgs order does not matter', async () => {
    const context = makeContext(baseFiles);
    const a = await digestOf(context, { buildArgs: new Map([['A', '1'], ['B', '2']]) });
    const b = await digestOf(context, { buildArgs: new Map([['B', '2'], ['A', '1']]) });
    expect(b.digest).toBe(a.digest);
  });

  test('an empty context with an empty Dockerfile outside it still has a digest', async () => {
    const context = makeContext({});
    const dockerfileDir = makeContext({ Dockerfile: '' });
    const result = await digestOf(context, { dockerfile: join(dockerfileDir, 'Dockerfile') });
    expect(result).toMatchObject({ fileCount: 0, bytes: 0 });
  });
});

describe('computeContentDigest: what changes it, and which part', () => {
  /** Larger than several reads, and not a whole number of them. */
  const BIG = 3 * 1024 * 1024 + 17;
  let context: string;
  let before: ContentDigest;
  beforeEach(async () => {
    context = makeContext({ ...baseFiles, 'big.bin': randomBytes(BIG) });
    before = await digestOf(context);
  });

  const expectOnly = async (part: string, overrides: Partial<ContentDigestInput> = {}) => {
    const after = await digestOf(context, overrides);
    expect(after.digest).not.toBe(before.digest);
    expect(changedParts(before, after)).toEqual([part]);
  };

  test('one byte changed in a file', async () => {
    writeFileSync(join(context, 'src/model.py'), 'class Model: pasS\n');
    await expectOnly('files');
  });

  test('one byte changed in the last chunk of a file larger than a read', async () => {
    const handle = openSync(join(context, 'big.bin'), 'r+');
    const last = Buffer.alloc(1);
    readSync(handle, last, 0, 1, BIG - 1);
    writeSync(handle, Buffer.from([last[0]! ^ 0x01]), 0, 1, BIG - 1);
    closeSync(handle);
    await expectOnly('files');
  });

  test('one byte appended', async () => {
    appendFileSync(join(context, 'train.py'), ' ');
    await expectOnly('files');
  });

  test('the execute bit (chmod +x)', async () => {
    chmodSync(join(context, 'train.py'), 0o755);
    await expectOnly('files');
  });

  test("a directory's mode", async () => {
    chmodSync(join(context, 'src'), 0o700);
    await expectOnly('files');
  });

  test('a new empty directory', async () => {
    mkdirSync(join(context, 'src/empty'));
    await expectOnly('files');
  });

  test('a new empty file', async () => {
    writeFileSync(join(context, 'src/__init__.py'), '');
    await expectOnly('files');
  });

  test('a rename, same content', async () => {
    renameSync(join(context, 'src/model.py'), join(context, 'src/models.py'));
    await expectOnly('files');
  });

  test('moving a file to another directory, same name and content', async () => {
    renameSync(join(context, 'src/utils/io.py'), join(context, 'src/io.py'));
    await expectOnly('files');
  });

  test('the Dockerfile', async () => {
    appendFileSync(join(context, 'Dockerfile'), 'RUN true\n');
    const after = await digestOf(context);
    // The Dockerfile is in the context too, so both parts move.
    expect(changedParts(before, after)).toEqual(['files', 'dockerfile']);
  });

  test('a build argument value', async () => expectOnly('buildArgs', { buildArgs: new Map([['PYTHON', '3.13']]) }));
  test('a build argument name', async () => expectOnly('buildArgs', { buildArgs: new Map([['PYTHON_', '3.12']]) }));
  test('an added build argument', async () =>
    expectOnly('buildArgs', { buildArgs: new Map([['PYTHON', '3.12'], ['EXTRA', '']]) }));
  test('no build arguments at all', async () => expectOnly('buildArgs', { buildArgs: new Map() }));
  test('the target stage', async () => expectOnly('target', { target: 'runtime' }));
  test('the platform', async () => expectOnly('platform', { platform: 'linux/arm64' }));

  test('a symlink target', async () => {
    symlinkSync('train.py', join(context, 'link'));
    const withLink = await digestOf(context);
    rmSync(join(context, 'link'));
    symlinkSync('src/model.py', join(context, 'link'));
    const after = await digestOf(context);
    expect(changedParts(withLink, after)).toEqual(['files']);
  });

  test('a file replaced by a symlink to identical content', async () => {
    writeFileSync(join(context, 'copy.py'), 'print("training")\n');
    const asFile = await digestOf(context);
    rmSync(join(context, 'copy.py'));
    symlinkSync('train.py', join(context, 'copy.py'));
    expect(changedParts(asFile, await digestOf(context))).toEqual(['files']);
  });
});

describe('computeContentDigest: .dockerignore', () => {
  test('a change in an excluded file, or a new excluded file, does not change the digest', async () => {
    const context = makeContext({
      ...baseFiles,
      '.dockerignore': '.git\n**/__pycache__\n*.log\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'src/__pycache__/model.cpython-312.pyc': 'x',
      'run.log': 'a',
    });
    const before = await digestOf(context);
    writeFileSync(join(context, '.git/HEAD'), 'ref: refs/heads/other\n');
    writeFileSync(join(context, 'run.log'), 'b');
    write(context, 'src/utils/__pycache__/io.pyc', 'y');
    write(context, '.git/objects/ab/cdef', 'z');
    chmodSync(join(context, 'run.log'), 0o700);
    const after = await digestOf(context);
    expect(after).toEqual(before);
    expect(after.fileCount).toBe(5); // the 4 base files and .dockerignore
  });

  test('the excluded files are not counted', async () => {
    const withIgnored = await digestOf(
      makeContext({ ...baseFiles, '.dockerignore': '.dockerignore\nnotes.txt', 'notes.txt': 'x' }),
    );
    const without = await digestOf(makeContext({ ...baseFiles, '.dockerignore': '.dockerignore\nother.txt' }));
    expect(withIgnored.parts.files).toBe(without.parts.files);
    expect(withIgnored.fileCount).toBe(4);
  });

  test('a Dockerfile excluded by .dockerignore still changes the digest (the builder reads it anyway)', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': 'Dockerfile\n' });
    const before = await digestOf(context);
    expect(before.fileCount).toBe(4); // train.py, model.py, io.py, .dockerignore: not the Dockerfile
    appendFileSync(join(context, 'Dockerfile'), 'RUN echo changed\n');
    const after = await digestOf(context);
    expect(after.digest).not.toBe(before.digest);
    expect(changedParts(before, after)).toEqual(['dockerfile']);
  });

  test('a Dockerfile outside the context counts through its own part', async () => {
    const context = makeContext({ 'app.py': 'x' });
    const elsewhere = makeContext({ 'ml.Dockerfile': 'FROM scratch\n' });
    const dockerfile = join(elsewhere, 'ml.Dockerfile');
    const before = await digestOf(context, { dockerfile });
    appendFileSync(dockerfile, 'COPY app.py /\n');
    expect(changedParts(before, await digestOf(context, { dockerfile }))).toEqual(['dockerfile']);
  });

  test('the .dockerignore file is part of the context (COPY . copies it) unless it excludes itself', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': '*.log\n' });
    const before = await digestOf(context);
    writeFileSync(join(context, '.dockerignore'), '# logs\n*.log\n');
    expect(changedParts(before, await digestOf(context))).toEqual(['files']);

    writeFileSync(join(context, '.dockerignore'), '*.log\n.dockerignore\n');
    const selfExcluded = await digestOf(context);
    writeFileSync(join(context, '.dockerignore'), '# logs\n*.log\n.dockerignore\n');
    expect(await digestOf(context)).toEqual(selfExcluded);
  });

  test('*.md then !README.md: README.md counts, other .md files do not', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': '.dockerignore\n*.md\n!README.md\n', 'README.md': 'r', 'NOTES.md': 'n' });
    const before = await digestOf(context);
    writeFileSync(join(context, 'NOTES.md'), 'n2');
    expect(await digestOf(context)).toEqual(before);
    writeFileSync(join(context, 'README.md'), 'r2');
    expect(changedParts(before, await digestOf(context))).toEqual(['files']);
  });

  test('docs then !docs/keep.txt: the kept file and its folder count, the rest of docs does not', async () => {
    const context = makeContext({
      ...baseFiles,
      '.dockerignore': '.dockerignore\ndocs\n!docs/keep.txt\n',
      'docs/keep.txt': 'k',
      'docs/other.txt': 'o',
      'docs/deep/more.txt': 'm',
    });
    const before = await digestOf(context);
    expect(before.fileCount).toBe(5);
    writeFileSync(join(context, 'docs/other.txt'), 'o2');
    mkdirSync(join(context, 'docs/new-dir'));
    expect(await digestOf(context)).toEqual(before);
    // The folder is sent as the kept file's parent, so its mode is part of what the build sees.
    chmodSync(join(context, 'docs'), 0o700);
    expect(changedParts(before, await digestOf(context))).toEqual(['files']);
  });

  test('an excluded folder with nothing re-included inside is not even listed (an unreadable one does no harm)', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': 'secrets\n', 'secrets/key.pem': 'k' });
    const before = await digestOf(context);
    chmodSync(join(context, 'secrets'), 0o000);
    try {
      expect(await asUnprivileged(() => digestOf(context))).toEqual(before);
    } finally {
      chmodSync(join(context, 'secrets'), 0o755);
    }
  });

  test('<dockerfile>.dockerignore next to the Dockerfile takes precedence over <context>/.dockerignore', async () => {
    const context = makeContext({
      ...baseFiles,
      '.dockerignore': 'a.txt\n',
      'ci/ml.Dockerfile': 'FROM scratch\n',
      'ci/ml.Dockerfile.dockerignore': 'b.txt\n',
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const dockerfile = join(context, 'ci/ml.Dockerfile');
    const before = await digestOf(context, { dockerfile });
    writeFileSync(join(context, 'b.txt'), 'b2');
    expect(await digestOf(context, { dockerfile })).toEqual(before);
    writeFileSync(join(context, 'a.txt'), 'a2');
    expect(changedParts(before, await digestOf(context, { dockerfile }))).toEqual(['files']);
  });

  test('ignoreFile picks another ignore file (buildah reads .containerignore first); null means none', async () => {
    const context = makeContext({ ...baseFiles, '.containerignore': 'a.txt\n', 'a.txt': 'a' });
    const ignoreFile = join(context, '.containerignore');
    const before = await digestOf(context, { ignoreFile });
    writeFileSync(join(context, 'a.txt'), 'a2');
    expect(await digestOf(context, { ignoreFile })).toEqual(before);
    const none = await digestOf(context, { ignoreFile: null });
    expect(none.fileCount).toBe(before.fileCount + 1);
  });

  test('a malformed pattern is a one-line error naming the input, the file and the line', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': '*.log\nfile[0-9\n' });
    await expect(digestOf(context)).rejects.toThrow(InputError);
    await expect(digestOf(context)).rejects.toThrow(
      "input 'context': .dockerignore line 2: pattern 'file[0-9' has a '[' that is never closed",
    );
  });
});

describe('computeContentDigest: symlinks', () => {
  test('symlinks inside the context are hashed as links, never followed', async () => {
    const context = makeContext({ ...baseFiles, 'assets/real.txt': 'r' });
    symlinkSync('../assets/real.txt', join(context, 'src/rel-link'));
    symlinkSync(join(context, 'assets'), join(context, 'abs-link-inside'));
    symlinkSync('does-not-exist', join(context, 'dangling'));
    const before = await digestOf(context);
    // Changing the target's content changes the target's record, not the link's.
    writeFileSync(join(context, 'assets/real.txt'), 'r2');
    expect(changedParts(before, await digestOf(context))).toEqual(['files']);
    expect((await digestOf(context)).fileCount).toBe(5);
  });

  test.each([
    ['a relative target', '../../outside.txt'],
    ['an absolute target', '/etc/passwd'],
    ['a target that only leaves by ..', 'sub/../../../x'],
  ])('a symlink pointing outside the context fails: %s', async (_name, target) => {
    const context = makeContext({ ...baseFiles });
    symlinkSync(target, join(context, 'src/escape'));
    await expect(digestOf(context)).rejects.toThrow(InputError);
    await expect(digestOf(context)).rejects.toThrow(
      "input 'context': symlink 'src/escape' points outside the build context",
    );
  });

  test('an excluded symlink pointing outside is no problem: the builder never sees it', async () => {
    const context = makeContext({ ...baseFiles, '.dockerignore': '.venv\n' });
    mkdirSync(join(context, '.venv/bin'), { recursive: true });
    symlinkSync('/usr/bin/python3', join(context, '.venv/bin/python'));
    await expect(digestOf(context)).resolves.toMatchObject({ fileCount: 5 });
  });

  test('a context given through a symlinked path accepts absolute links made with that path', async () => {
    const context = makeContext({ ...baseFiles });
    const alias = join(scratch, `alias-${++counter}`);
    symlinkSync(context, alias);
    symlinkSync(join(alias, 'train.py'), join(context, 'abs'));
    await expect(digestOf(alias, { dockerfile: join(alias, 'Dockerfile') })).resolves.toMatchObject({ fileCount: 4 });
  });
});

describe('computeContentDigest: errors and cancel', () => {
  // Root reads a mode-000 file regardless, so as root these run with the effective user 'nobody'
  // (seteuid), for whom the permission bits bind as they would for an agent's service account.
  test('a file the user cannot read (mode 000, read without root privileges) fails naming its path', async () => {
    const context = makeContext({ ...baseFiles, 'secret/key.pem': 'k' });
    chmodSync(join(context, 'secret/key.pem'), 0o000);
    await expect(asUnprivileged(() => digestOf(context))).rejects.toThrow(
      "input 'context': cannot read 'secret/key.pem': permission denied",
    );
  });

  test('a folder the user cannot list (mode 000, without root privileges) fails naming its path', async () => {
    const context = makeContext({ ...baseFiles, 'secret/key.pem': 'k' });
    chmodSync(join(context, 'secret'), 0o000);
    try {
      await expect(asUnprivileged(() => digestOf(context))).rejects.toThrow(
        "input 'context': cannot read 'secret': permission denied",
      );
    } finally {
      chmodSync(join(context, 'secret'), 0o755);
    }
  });

  test('a FIFO in the context is recorded, never opened (a read would wait for a writer forever)', async () => {
    const context = makeContext({ ...baseFiles });
    execFileSync('mkfifo', [join(context, 'pipe')]);
    const result = await digestOf(context);
    expect(result.fileCount).toBe(4);
    rmSync(join(context, 'pipe'));
    expect((await digestOf(context)).parts.files).not.toBe(result.parts.files);
  });

  test('a missing context or Dockerfile names its input', async () => {
    const context = makeContext({ ...baseFiles });
    await expect(digestOf(join(context, 'nope'))).rejects.toThrow(/^input 'context': '.*nope' was not found$/);
    await expect(digestOf(context, { context: join(context, 'train.py') })).rejects.toThrow(/^input 'context': '.*train\.py' is not a folder$/);
    await expect(digestOf(context, { dockerfile: join(context, 'Nofile') })).rejects.toThrow(
      /^input 'dockerfile': '.*Nofile' was not found$/,
    );
    await expect(digestOf(context, { dockerfile: join(context, 'src') })).rejects.toThrow(
      /^input 'dockerfile': '.*src' is not a regular file$/,
    );
  });

  test('an already aborted signal gives CancelledError before any work', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(digestOf(makeContext(baseFiles), { signal: controller.signal })).rejects.toThrow(CancelledError);
  });

  test('an abort during hashing stops it with CancelledError', async () => {
    const context = makeContext({ ...baseFiles });
    // 4 GiB of hole: no disk used, but seconds of hashing.
    writeFileSync(join(context, 'weights.bin'), '');
    truncateSync(join(context, 'weights.bin'), 4 * 1024 ** 3);
    const controller = new AbortController();
    const started = Date.now();
    const pending = digestOf(context, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow(new CancelledError('hashing the build context'));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('FileHasher', () => {
  test('streams a file of several chunks to the same SHA-256 as hashing it whole', async () => {
    const dir = makeContext({});
    const content = randomBytes(5 * 1024 * 1024 + 3);
    writeFileSync(join(dir, 'f'), content, { mode: 0o640 });
    const hashed = await new FileHasher().hash(join(dir, 'f'));
    expect(hashed.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(hashed.size).toBe(content.length);
    expect(hashed.mode & 0o777).toBe(0o640);
  });

  test('one hasher reused for many files keeps them apart', async () => {
    const dir = makeContext({ a: 'alpha'.repeat(300_000), b: 'b', c: '' });
    const hasher = new FileHasher();
    for (const name of ['a', 'b', 'c']) {
      const expected = createHash('sha256').update(name === 'a' ? 'alpha'.repeat(300_000) : name === 'b' ? 'b' : '').digest('hex');
      expect((await hasher.hash(join(dir, name))).sha256).toBe(expected);
    }
  });

  test('with noFollow, refuses a symlink where a file was expected', async () => {
    const dir = makeContext({ a: 'a' });
    symlinkSync('a', join(dir, 'link'));
    await expect(new FileHasher().hash(join(dir, 'link'), { noFollow: true })).rejects.toMatchObject({ code: 'ELOOP' });
  });
});
