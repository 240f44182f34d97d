import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { AzurePlatform } from '../../shared/platform/azure.js';
import { GitHubPlatform } from '../../shared/platform/github.js';
import { InputReader } from '../../shared/platform/inputs.js';
import type { TaskDeclaration } from '../../shared/tasks/declaration.js';
import { InputError, UserError } from '../../shared/util/errors.js';

const declaration: TaskDeclaration = {
  id: '00000000-0000-4000-8000-000000000001',
  taskName: 'TestTask',
  actionName: 'test-task',
  friendlyName: 'Test task',
  description: 'A declaration for tests',
  category: 'Build',
  instanceNameFormat: 'Test',
  inputs: [
    { name: 'image', label: 'Image', description: '', type: 'string', required: true },
    { name: 'tag', label: 'Tag', description: '', type: 'string', default: 'latest' },
    { name: 'push', label: 'Push', description: '', type: 'boolean', default: 'true' },
    { name: 'verbose', label: 'Verbose', description: '', type: 'boolean' },
    { name: 'secretFlag', label: 'Secret flag', description: '', type: 'boolean', secret: true },
    { name: 'builder', label: 'Builder', description: '', type: 'pickList', options: ['auto', 'docker', 'buildah'], default: 'auto' },
    { name: 'tags', label: 'Tags', description: '', type: 'list' },
    { name: 'buildArgs', label: 'Build args', description: '', type: 'map' },
    { name: 'dockerfile', label: 'Dockerfile', description: '', type: 'filePath' },
    { name: 'context', label: 'Context', description: '', type: 'filePath' },
    { name: 'token', label: 'Token', description: '', type: 'string', secret: true },
    { name: 'azureOnly', label: 'Azure only', description: '', type: 'string', default: 'azure-default', platforms: ['azure'] },
    { name: 'githubOnly', label: 'GitHub only', description: '', type: 'string', platforms: ['github'] },
  ],
  outputs: [],
};

/** A reader over a GitHub platform whose inputs are the given INPUT_* values. */
function reader(inputs: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const lines: string[] = [];
  const platform = new GitHubPlatform(env, (line) => lines.push(line));
  return { inputs: new InputReader(declaration, platform), platform, lines };
}

/** The error thrown by fn, failing the test when nothing is thrown. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('raw and string', () => {
  test('an undeclared input is a programming error naming the task', () => {
    expect(() => reader().inputs.raw('nope')).toThrow("input 'nope' is not declared by TestTask");
  });

  test('values are trimmed; empty or blank values take the default', () => {
    expect(reader({ tag: '  v1.2  ' }).inputs.string('tag')).toBe('v1.2');
    expect(reader({ tag: '' }).inputs.string('tag')).toBe('latest');
    expect(reader({ tag: '   ' }).inputs.string('tag')).toBe('latest');
    expect(reader().inputs.string('tag')).toBe('latest');
  });

  test('an input without value or default reads as empty', () => {
    expect(reader().inputs.string('token')).toBe('');
    expect(reader().inputs.raw('tags')).toBe('');
  });

  test('a required input that is empty is an InputError naming the input', () => {
    const error = thrown(() => reader({ image: '  ' }).inputs.string('image'));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe("input 'image': is required but empty");
    expect((error as InputError).input).toBe('image');
  });

  test('a required input with a value passes', () => {
    expect(reader({ image: 'team/app' }).inputs.string('image')).toBe('team/app');
  });

  test('a string input must be one line', () => {
    expect(() => reader({ image: 'a\nb' }).inputs.string('image')).toThrow("input 'image': must be a single line");
  });
});

describe('boolean', () => {
  test.each([
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['false', false],
    ['False', false],
    ['', false],
  ])('%j reads as %s', (value, expected) => {
    expect(reader({ verbose: value }).inputs.boolean('verbose')).toBe(expected);
  });

  test('the default applies when empty', () => {
    expect(reader().inputs.boolean('push')).toBe(true);
    expect(reader({ push: 'false' }).inputs.boolean('push')).toBe(false);
  });

  test('anything else is an error naming the input and the value', () => {
    const error = thrown(() => reader({ verbose: 'yes' }).inputs.boolean('verbose'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe("input 'verbose': must be true or false, got 'yes'");
  });

  test('the error for a secret boolean does not show the value', () => {
    const error = thrown(() => reader({ secretFlag: 'hidden-value' }).inputs.boolean('secretFlag'));
    expect(error.message).toBe("input 'secretFlag': must be true or false, got '***'");
  });
});

describe('pick', () => {
  test('returns a declared option', () => {
    expect(reader({ builder: 'buildah' }).inputs.pick('builder')).toBe('buildah');
    expect(reader().inputs.pick('builder')).toBe('auto');
  });

  test('another value is an error listing the options', () => {
    const error = thrown(() => reader({ builder: 'kaniko' }).inputs.pick('builder'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe("input 'builder': must be one of auto, docker, buildah, got 'kaniko'");
  });

  test('options are case-sensitive', () => {
    expect(() => reader({ builder: 'Docker' }).inputs.pick('builder')).toThrow("input 'builder': must be one of");
  });
});

describe('list', () => {
  test('splits on newlines and commas, trims, and drops empty items', () => {
    const value = 'v1, v2\nlatest\r\n\n  ,sha-abc ,, \n';
    expect(reader({ tags: value }).inputs.list('tags')).toEqual(['v1', 'v2', 'latest', 'sha-abc']);
  });

  test('an empty input is an empty list', () => {
    expect(reader().inputs.list('tags')).toEqual([]);
  });
});

describe('map', () => {
  test('reads KEY=VALUE lines, skipping comments and blank lines', () => {
    const value = ['# build arguments', 'A=1', '', '  B = two words  ', 'URL=https://x.example.com/?a=b', 'EMPTY=', '   # indented comment'].join('\n');
    const map = reader({ buildArgs: value }).inputs.map('buildArgs');
    expect([...map]).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['URL', 'https://x.example.com/?a=b'],
      ['EMPTY', ''],
    ]);
  });

  test('CRLF line endings are accepted', () => {
    expect([...reader({ buildArgs: 'A=1\r\nB=2' }).inputs.map('buildArgs')]).toEqual([
      ['A', '1'],
      ['B', '2'],
    ]);
  });

  test('a line without = is an error giving the line number but not its text', () => {
    const value = '# comment\nA=1\nghp_SuperSecretToken123';
    const error = thrown(() => reader({ buildArgs: value }).inputs.map('buildArgs'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe("input 'buildArgs': line 3 has no '=': write KEY=VALUE");
    expect(error.message).not.toContain('ghp_SuperSecretToken123');
  });

  test('a line with an empty key is an error that does not echo the value', () => {
    const value = 'A=1\n=tok-4f8e9a-value';
    const error = thrown(() => reader({ buildArgs: value }).inputs.map('buildArgs'));
    expect(error.message).toBe("input 'buildArgs': line 2 has an empty key: write KEY=VALUE");
    expect(error.message).not.toContain('tok-4f8e9a-value');
  });

  // Bug: raw() trims the whole value before map() numbers the lines, so leading blank lines are
  // not counted and the error points at the wrong line.
  test('line numbers count leading blank lines as the user wrote them', () => {
    const error = thrown(() => reader({ buildArgs: '\n\nA=1\nbroken' }).inputs.map('buildArgs'));
    expect(error.message).toBe("input 'buildArgs': line 4 has no '=': write KEY=VALUE");
  });
});

describe('path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inputs-test-'));
  const file = join(dir, 'Dockerfile');
  writeFileSync(file, 'FROM scratch\n');
  mkdirSync(join(dir, 'ctx'));

  test('an existing file resolves to its absolute path, relative paths against the cwd', () => {
    expect(reader({ dockerfile: file }).inputs.path('dockerfile', 'file')).toBe(file);
    expect(reader({ dockerfile: relative(process.cwd(), file) }).inputs.path('dockerfile', 'file')).toBe(file);
  });

  test('an existing directory passes as a directory', () => {
    expect(reader({ context: join(dir, 'ctx') }).inputs.path('context', 'directory')).toBe(join(dir, 'ctx'));
  });

  test('a missing path is an error naming the input and the path', () => {
    const missing = join(dir, 'nope');
    const error = thrown(() => reader({ dockerfile: missing }).inputs.path('dockerfile', 'file'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`input 'dockerfile': file '${missing}' does not exist`);
  });

  test('a directory where a file is wanted, and a file where a directory is wanted, are errors', () => {
    expect(() => reader({ dockerfile: dir }).inputs.path('dockerfile', 'file')).toThrow(
      `input 'dockerfile': '${dir}' is a directory, not a file`,
    );
    expect(() => reader({ context: file }).inputs.path('context', 'directory')).toThrow(
      `input 'context': '${file}' is not a directory`,
    );
  });

  test('an empty input uses the fallback, or reads as empty', () => {
    expect(reader().inputs.path('dockerfile', 'file', file)).toBe(file);
    expect(reader().inputs.path('dockerfile', 'file')).toBe('');
    expect(() => reader().inputs.path('dockerfile', 'file', join(dir, 'missing'))).toThrow('does not exist');
  });
});

describe('secrets and platforms', () => {
  test('a secret input is masked when read, before anything logs it', () => {
    const { inputs, platform, lines } = reader({ token: '  tok-123456  ' });
    expect(inputs.string('token')).toBe('tok-123456');
    expect(lines).toContain('::add-mask::tok-123456');
    lines.length = 0;
    platform.info('token=tok-123456');
    expect(lines).toEqual(['token=***']);
  });

  test('an empty secret input registers no mask; non-secret inputs are never masked', () => {
    const { inputs, lines } = reader({ image: 'team/app' });
    expect(inputs.string('token')).toBe('');
    expect(inputs.string('image')).toBe('team/app');
    expect(lines).toEqual([]);
  });

  test('an input offered only on another platform reads as empty, default included', () => {
    const { inputs } = reader({ azureOnly: 'given', githubOnly: 'here' });
    expect(inputs.raw('azureOnly')).toBe('');
    expect(inputs.string('azureOnly')).toBe('');
    expect(inputs.string('githubOnly')).toBe('here');
  });

  test('on Azure DevOps the platform-restricted inputs swap', () => {
    const platform = new AzurePlatform({ INPUT_AZUREONLY: 'given', INPUT_GITHUBONLY: 'here' }, () => undefined);
    const inputs = new InputReader(declaration, platform);
    expect(inputs.string('azureOnly')).toBe('given');
    expect(inputs.string('githubOnly')).toBe('');
    const withDefault = new InputReader(declaration, new AzurePlatform({}, () => undefined));
    expect(withDefault.string('azureOnly')).toBe('azure-default');
  });
});
