import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelContentDigest, readModelFiles } from '../../shared/model/files.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-files-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('readModelFiles', () => {
  test('lists a folder sorted, with sizes and sha256 digests, and one digest over them all', async () => {
    const dir = folder({ 'b/w.bin': 'weights', 'a.json': '{}' });
    const read = await readModelFiles(dir);
    expect(read.singleFile).toBe(false);
    expect(read.files.map(({ path, size, digest }) => ({ path, size, digest }))).toEqual([
      { path: 'a.json', size: 2, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' },
      { path: 'b/w.bin', size: 7, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    ]);
    expect(read.bytes).toBe(9);
    expect(read.contentDigest).toBe(modelContentDigest(read.files));
  });

  test('the digest follows content and paths, not where the folder is', async () => {
    const one = await readModelFiles(folder({ 'm.bin': 'x' }));
    const same = await readModelFiles(folder({ 'm.bin': 'x' }));
    const changed = await readModelFiles(folder({ 'm.bin': 'y' }));
    const renamed = await readModelFiles(folder({ 'n.bin': 'x' }));
    expect(same.contentDigest).toBe(one.contentDigest);
    expect(new Set([one.contentDigest, changed.contentDigest, renamed.contentDigest]).size).toBe(3);
  });

  test('a single file is a model of one file named by its base name', async () => {
    const dir = folder({ 'model.pkl': 'pickle' });
    const read = await readModelFiles(join(dir, 'model.pkl'));
    expect(read.singleFile).toBe(true);
    expect(read.files.map((file) => file.path)).toEqual(['model.pkl']);
  });

  test('a symlink to a file inside the folder is followed; one pointing outside is refused', async () => {
    const dir = folder({ 'real.bin': 'r' });
    symlinkSync('real.bin', join(dir, 'alias.bin'));
    const read = await readModelFiles(dir);
    expect(read.files.map((file) => [file.path, file.size])).toEqual([['alias.bin', 1], ['real.bin', 1]]);
    symlinkSync('/etc/hostname', join(dir, 'leak'));
    await expect(readModelFiles(dir)).rejects.toThrow("input 'modelPath': symlink 'leak' points outside the model folder: copy the file in instead");
  });

  test('a missing path and an empty folder are input errors', async () => {
    await expect(readModelFiles('/nonexistent/model')).rejects.toThrow("input 'modelPath': '/nonexistent/model' does not exist");
    const empty = mkdtempSync(join(tmpdir(), 'mlops-empty-'));
    mkdirSync(join(empty, 'sub'));
    await expect(readModelFiles(empty)).rejects.toThrow(/^input 'modelPath': folder '.*' holds no files/);
  });
});
