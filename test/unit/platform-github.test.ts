import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitHubPlatform } from '../../shared/platform/github.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gh-platform-test-'));
}

/** A platform over a plain env object; every line it writes is collected. */
function makePlatform(env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const platform = new GitHubPlatform(env, (line) => lines.push(line));
  return { platform, lines, env };
}

/** Parses the GITHUB_OUTPUT file format written by setOutput: name<<delimiter ... delimiter. */
function parseOutputFile(text: string): { outputs: Record<string, string>; delimiters: string[] } {
  const outputs: Record<string, string> = {};
  const delimiters: string[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const header = lines[i] ?? '';
    i += 1;
    if (header === '') continue;
    const match = /^([^<]+)<<(.+)$/.exec(header);
    if (!match) throw new Error(`unexpected line in output file: ${header}`);
    const [, name = '', delimiter = ''] = match;
    delimiters.push(delimiter);
    const value: string[] = [];
    while (i < lines.length && lines[i] !== delimiter) {
      value.push(lines[i] ?? '');
      i += 1;
    }
    if (i >= lines.length) throw new Error(`no closing delimiter for ${name}`);
    i += 1;
    outputs[name] = value.join('\n');
  }
  return { outputs, delimiters };
}

let savedExitCode: typeof process.exitCode;
beforeEach(() => {
  savedExitCode = process.exitCode;
});
afterEach(() => {
  process.exitCode = savedExitCode;
});

describe('GitHubPlatform inputs', () => {
  test('reads INPUT_<NAME> with the name upper-cased and spaces as underscores', () => {
    const { platform } = makePlatform({ INPUT_BUILDARGS: 'A=1', INPUT_MY_INPUT: 'spaced' });
    expect(platform.getInput('buildArgs')).toBe('A=1');
    expect(platform.getInput('my input')).toBe('spaced');
    expect(platform.getInput('missing')).toBeUndefined();
  });

  test('moves inputs out of the env object, so child processes never see them', () => {
    const env: NodeJS.ProcessEnv = { INPUT_PASSWORD: 'hunter2hunter2', PATH: '/usr/bin', HOME: '/home/x' };
    const { platform } = makePlatform(env);
    expect(env.INPUT_PASSWORD).toBeUndefined();
    const child = platform.childEnv({ EXTRA: 'yes' });
    expect(Object.keys(child).filter((key) => key.startsWith('INPUT_'))).toEqual([]);
    expect(child).toEqual({ PATH: '/usr/bin', HOME: '/home/x', EXTRA: 'yes' });
    // The value is still readable through the platform.
    expect(platform.getInput('password')).toBe('hunter2hunter2');
  });

  test('childEnv returns a copy: changing it does not change the platform env', () => {
    const { platform } = makePlatform({ PATH: '/bin' });
    const child = platform.childEnv();
    child.PATH = '/changed';
    expect(platform.childEnv().PATH).toBe('/bin');
  });

  test('has no service connections', () => {
    const { platform } = makePlatform({ INPUT_CONTAINERREGISTRY: 'some-id' });
    expect(platform.getServiceConnection('containerRegistry')).toBeUndefined();
  });
});

describe('GitHubPlatform outputs', () => {
  test('setOutput appends heredoc blocks to GITHUB_OUTPUT that parse back, multi-line values included', () => {
    const file = join(tempDir(), 'output');
    writeFileSync(file, '');
    const { platform, lines } = makePlatform({ GITHUB_OUTPUT: file });
    platform.setOutput('digest', 'sha256:abc');
    platform.setOutput('notes', 'line one\nline two\n\nline four');
    platform.setOutput('empty', '');

    const { outputs, delimiters } = parseOutputFile(readFileSync(file, 'utf8'));
    expect(outputs).toEqual({ digest: 'sha256:abc', notes: 'line one\nline two\n\nline four', empty: '' });
    for (const delimiter of delimiters) expect(delimiter).toMatch(/^ghadelimiter_[0-9a-f-]{36}$/);
    expect(new Set(delimiters).size).toBe(3);
    expect(lines).toEqual([]);
  });

  test('setOutput appends to what is already in the file', () => {
    const file = join(tempDir(), 'output');
    writeFileSync(file, 'earlier<<EOF\nvalue\nEOF\n');
    const { platform } = makePlatform({ GITHUB_OUTPUT: file });
    platform.setOutput('later', 'x');
    expect(parseOutputFile(readFileSync(file, 'utf8')).outputs).toEqual({ earlier: 'value', later: 'x' });
  });

  test('without GITHUB_OUTPUT, setOutput falls back to an escaped set-output command', () => {
    const { platform, lines } = makePlatform({});
    platform.setOutput('result', '50%\r\ndone');
    expect(lines).toEqual(['::set-output name=result::50%25%0D%0Adone']);
  });
});

describe('GitHubPlatform secrets and logging', () => {
  test('setSecret emits add-mask and later lines are redacted', async () => {
    const summaryFile = join(tempDir(), 'summary.md');
    const { platform, lines } = makePlatform({ GITHUB_STEP_SUMMARY: summaryFile });
    platform.setSecret('s3cr3t-value');
    expect(lines).toEqual(['::add-mask::s3cr3t-value']);

    lines.length = 0;
    platform.info('token is s3cr3t-value');
    platform.warning('warn s3cr3t-value');
    platform.error('err s3cr3t-value');
    platform.debug('dbg s3cr3t-value');
    expect(lines).toEqual(['token is ***', '::warning::warn ***', '::error::err ***', '::debug::dbg ***']);

    await platform.summary('| password | s3cr3t-value |');
    expect(readFileSync(summaryFile, 'utf8')).toBe('| password | *** |\n');
    expect(platform.redact('x s3cr3t-value y s3cr3t-value')).toBe('x *** y ***');
  });

  test('a multi-line secret is masked whole and line by line, escaped', () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('first-line\nsecond-line');
    expect(lines).toContain('::add-mask::first-line%0Asecond-line');
    expect(lines).toContain('::add-mask::first-line');
    expect(lines).toContain('::add-mask::second-line');
    expect(lines).toHaveLength(3);
  });

  test('an empty secret writes nothing', () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('');
    expect(lines).toEqual([]);
  });

  test('mask values are escaped: % becomes %25', () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('100%pure');
    expect(lines).toContain('::add-mask::100%25pure');
    expect(lines.some((line) => line.includes('100%pure'))).toBe(false);
  });

  test('warning and error are one line; % is escaped as %25', () => {
    const { platform, lines } = makePlatform({});
    platform.warning('disk 95% full\nsecond line');
    platform.error('failed:\r\n  details');
    expect(lines).toEqual(['::warning::disk 95%25 full second line', '::error::failed: details']);
  });

  test('debug writes one command per line', () => {
    const { platform, lines } = makePlatform({});
    platform.debug('a\r\nb%');
    expect(lines).toEqual(['::debug::a', '::debug::b%25']);
  });

  test('info writes the message as is', () => {
    const { platform, lines } = makePlatform({});
    platform.info('plain 100% text');
    expect(lines).toEqual(['plain 100% text']);
  });

  test('progress shows a rounded percentage', () => {
    const { platform, lines } = makePlatform({});
    platform.progress(42.6, 'pushing layers');
    expect(lines).toEqual(['[43%] pushing layers']);
  });
});

describe('GitHubPlatform group', () => {
  test('wraps the body in group markers and returns its value', async () => {
    const { platform, lines } = makePlatform({});
    const result = await platform.group('Build\nimage 50%', async () => {
      lines.push('inside');
      return 7;
    });
    expect(result).toBe(7);
    expect(lines).toEqual(['::group::Build%0Aimage 50%25', 'inside', '::endgroup::']);
  });

  test('closes the group when the body throws, and rethrows', async () => {
    const { platform, lines } = makePlatform({});
    await expect(
      platform.group('Push', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(lines).toEqual(['::group::Push', '::endgroup::']);
  });

  test('the group title is redacted', async () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('titlesecret');
    lines.length = 0;
    await platform.group('login titlesecret', async () => undefined);
    expect(lines[0]).toBe('::group::login ***');
  });
});

describe('GitHubPlatform summary and fail', () => {
  test('summary appends markdown to GITHUB_STEP_SUMMARY', async () => {
    const file = join(tempDir(), 'summary.md');
    writeFileSync(file, '# Earlier step\n');
    const { platform, lines } = makePlatform({ GITHUB_STEP_SUMMARY: file });
    await platform.summary('## Image\n[link](https://example.com)');
    await platform.summary('second');
    expect(readFileSync(file, 'utf8')).toBe('# Earlier step\n## Image\n[link](https://example.com)\nsecond\n');
    expect(lines).toEqual([]);
  });

  test('summary without GITHUB_STEP_SUMMARY does nothing', async () => {
    const { platform, lines } = makePlatform({});
    await expect(platform.summary('text')).resolves.toBeUndefined();
    expect(lines).toEqual([]);
  });

  test('fail writes an error and sets process.exitCode to 1', () => {
    const { platform, lines } = makePlatform({});
    process.exitCode = 0;
    platform.fail('BuildMLImage: it broke');
    expect(process.exitCode).toBe(1);
    expect(lines).toEqual(['::error::BuildMLImage: it broke']);
  });
});

describe('GitHubPlatform context', () => {
  test('ci context comes from the GITHUB_* variables', () => {
    const { platform } = makePlatform({
      GITHUB_SHA: 'abc123',
      GITHUB_RUN_ID: '987',
      GITHUB_RUN_NUMBER: '12',
      GITHUB_SERVER_URL: 'https://ghe.example.com',
      GITHUB_REPOSITORY: 'org/repo',
      GITHUB_WORKSPACE: '/work/space',
    });
    expect(platform.name).toBe('github');
    expect(platform.ci).toEqual({
      sha: 'abc123',
      runId: '987',
      runNumber: '12',
      runUrl: 'https://ghe.example.com/org/repo/actions/runs/987',
      repositoryUrl: 'https://ghe.example.com/org/repo',
      workspace: '/work/space',
    });
  });

  test('the server defaults to github.com; no run URL without a repository', () => {
    const withRepo = makePlatform({ GITHUB_REPOSITORY: 'org/repo', GITHUB_RUN_ID: '5' }).platform;
    expect(withRepo.ci.runUrl).toBe('https://github.com/org/repo/actions/runs/5');
    const without = makePlatform({ GITHUB_RUN_ID: '5' }).platform;
    expect(without.ci.runUrl).toBe('');
    expect(without.ci.repositoryUrl).toBe('');
    expect(without.ci.workspace).toBe(process.cwd());
  });

  test.each([
    ['1', true],
    ['0', false],
    ['true', false],
    [undefined, false],
  ])('RUNNER_DEBUG=%s gives isDebug %s', (value, expected) => {
    const env: NodeJS.ProcessEnv = value === undefined ? {} : { RUNNER_DEBUG: value };
    expect(makePlatform(env).platform.isDebug).toBe(expected);
  });

  test('the cancel signal starts un-aborted', () => {
    expect(makePlatform({}).platform.signal.aborted).toBe(false);
  });
});
