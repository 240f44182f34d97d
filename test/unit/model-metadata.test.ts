import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetadataTags } from '../../shared/model/metadata.js';
import { lineageTags } from '../../shared/model/lineage.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mlops-meta-')), 'params.json');
  writeFileSync(path, text);
  return path;
}

describe('readMetadataTags', () => {
  test('flat keys become tags; nested objects are flattened with dots; lists and numbers keep their JSON text', async () => {
    const tags = await readMetadataTags(file('{"epochs": 5, "name": "tacos", "opt": {"lr": 0.01, "betas": [0.9, 0.99]}, "none": null, "empty": {}}'), 'params.json');
    expect(Object.fromEntries(tags)).toEqual({ epochs: '5', name: 'tacos', 'opt.lr': '0.01', 'opt.betas': '[0.9,0.99]', none: 'null', empty: '{}' });
  });

  test('not JSON, or not an object, is an error naming metadataFile', async () => {
    await expect(readMetadataTags(file('epochs: 5'), 'params.yaml')).rejects.toThrow(/^input 'metadataFile': 'params\.yaml' is not JSON: /);
    await expect(readMetadataTags(file('[1, 2]'), 'list.json')).rejects.toThrow("input 'metadataFile': 'list.json' must hold a JSON object whose keys become tags, got an array");
  });
});

describe('lineageTags', () => {
  const ci = { sha: 'abc123', runId: '7', runNumber: '7', runUrl: 'https://ci/run/7', repositoryUrl: 'https://github.com/contoso/tacos', workspace: '/w' };

  test('always names repository, commit and run; image and KFP run only when given', () => {
    expect(Object.fromEntries(lineageTags(ci, { sourceImage: '', kfpRunId: '' }))).toEqual({
      'mlops-tasks.source-repository': 'https://github.com/contoso/tacos',
      'mlops-tasks.source-commit': 'abc123',
      'mlops-tasks.ci-run-url': 'https://ci/run/7',
    });
    expect(lineageTags(ci, { sourceImage: 'r/i@sha256:1', kfpRunId: 'run-1' }).get('mlops-tasks.kfp-run-id')).toBe('run-1');
  });
});
