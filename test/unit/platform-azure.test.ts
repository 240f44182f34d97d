import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AzurePlatform } from '../../shared/platform/azure.js';

/** A platform over a plain env object; every line it writes is collected. */
function makePlatform(env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const platform = new AzurePlatform(env, (line) => lines.push(line));
  return { platform, lines, env };
}

// Service endpoint ids are GUIDs; the agent upper-cases them in variable names.
const ENDPOINT_ID = 'a1b2c3d4-0000-4000-8000-00000000abcd';
const KEY = ENDPOINT_ID.toUpperCase();

let savedExitCode: typeof process.exitCode;
beforeEach(() => {
  savedExitCode = process.exitCode;
});
afterEach(() => {
  process.exitCode = savedExitCode;
});

describe('AzurePlatform inputs and environment', () => {
  test('reads INPUT_<NAME>, with dots and spaces as underscores', () => {
    const { platform } = makePlatform({ INPUT_BUILDARGS: 'A=1', INPUT_SOME_NAME: 'dotted', INPUT_MY_INPUT: 'spaced' });
    expect(platform.getInput('buildArgs')).toBe('A=1');
    expect(platform.getInput('some.name')).toBe('dotted');
    expect(platform.getInput('my input')).toBe('spaced');
    expect(platform.getInput('missing')).toBeUndefined();
  });

  test('INPUT_*, ENDPOINT_* and SECRET_* leave the env object and never reach childEnv', () => {
    const env: NodeJS.ProcessEnv = {
      INPUT_IMAGE: 'app',
      ENDPOINT_URL_X: 'https://r.example.com',
      ENDPOINT_AUTH_X: '{"scheme":"None"}',
      SECRET_TOKEN: 'tok-tok-tok',
      PATH: '/usr/bin',
      AGENT_NAME: 'agent-1',
    };
    const { platform } = makePlatform(env);
    expect(Object.keys(env).sort()).toEqual(['AGENT_NAME', 'PATH']);
    const child = platform.childEnv({ DOCKER_CONFIG: '/tmp/d' });
    expect(Object.keys(child).filter((key) => /^(INPUT|ENDPOINT|SECRET)_/.test(key))).toEqual([]);
    expect(child).toEqual({ PATH: '/usr/bin', AGENT_NAME: 'agent-1', DOCKER_CONFIG: '/tmp/d' });
    expect(platform.getInput('image')).toBe('app');
  });
});

describe('AzurePlatform logging commands', () => {
  test('setOutput writes task.setvariable as an output, not a secret', () => {
    const { platform, lines } = makePlatform({});
    platform.setOutput('imageDigest', 'sha256:abc');
    expect(lines).toEqual(['##vso[task.setvariable variable=imageDigest;isOutput=true;issecret=false;]sha256:abc']);
  });

  test('values escape % as %AZP25 and CR/LF as %0D/%0A', () => {
    const { platform, lines } = makePlatform({});
    platform.setOutput('notes', '100%\r\nnext');
    expect(lines).toEqual(['##vso[task.setvariable variable=notes;isOutput=true;issecret=false;]100%AZP25%0D%0Anext']);
  });

  test('properties also escape ] and ; as %5D and %3B', () => {
    const { platform, lines } = makePlatform({});
    platform.setOutput('a]b;c%d\ne', 'v');
    expect(lines).toEqual(['##vso[task.setvariable variable=a%5Db%3Bc%AZP25d%0Ae;isOutput=true;issecret=false;]v']);
  });

  test('setSecret emits task.setsecret and later lines are redacted', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'az-platform-test-'));
    const { platform, lines } = makePlatform({ AGENT_TEMPDIRECTORY: temp });
    platform.setSecret('p@ss-w0rd');
    expect(lines).toContain('##vso[task.setsecret]p@ss-w0rd');

    lines.length = 0;
    platform.info('using p@ss-w0rd');
    platform.warning('warn p@ss-w0rd');
    platform.error('err p@ss-w0rd');
    platform.debug('dbg p@ss-w0rd');
    expect(lines).toEqual([
      'using ***',
      '##vso[task.logissue type=warning;]warn ***',
      '##vso[task.logissue type=error;]err ***',
      '##vso[task.debug]dbg ***',
    ]);

    lines.length = 0;
    await platform.summary('password: p@ss-w0rd');
    const file = /^##vso\[task\.uploadsummary\](.+)$/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(readFileSync(file, 'utf8')).toBe('password: ***');
  });

  test('a multi-line secret is registered whole (escaped) and line by line', () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('line-one\r\nline-two');
    expect(lines).toContain('##vso[task.setsecret]line-one%0D%0Aline-two');
    expect(lines).toContain('##vso[task.setsecret]line-one');
    expect(lines).toContain('##vso[task.setsecret]line-two');
  });

  test('warning and error are one line with % escaped', () => {
    const { platform, lines } = makePlatform({});
    platform.warning('95% full\nnext');
    expect(lines).toEqual(['##vso[task.logissue type=warning;]95%AZP25 full next']);
  });

  test('debug writes one task.debug per line', () => {
    const { platform, lines } = makePlatform({});
    platform.debug('one\ntwo');
    expect(lines).toEqual(['##vso[task.debug]one', '##vso[task.debug]two']);
  });

  test('progress writes task.setprogress with a rounded value', () => {
    const { platform, lines } = makePlatform({});
    platform.progress(49.5, 'pushing; 50%');
    expect(lines).toEqual(['##vso[task.setprogress value=50;]pushing; 50%AZP25']);
  });
});

describe('AzurePlatform group', () => {
  test('wraps the body in ##[group] / ##[endgroup] and returns its value', async () => {
    const { platform, lines } = makePlatform({});
    const value = await platform.group('Build', async () => {
      lines.push('inside');
      return 'done';
    });
    expect(value).toBe('done');
    expect(lines).toEqual(['##[group]Build', 'inside', '##[endgroup]']);
  });

  test('emits the end marker when the body throws', async () => {
    const { platform, lines } = makePlatform({});
    await expect(
      platform.group('Push', async () => {
        throw new Error('push failed');
      }),
    ).rejects.toThrow('push failed');
    expect(lines).toEqual(['##[group]Push', '##[endgroup]']);
  });
});

describe('AzurePlatform summary and fail', () => {
  test('summary writes the markdown to a file under AGENT_TEMPDIRECTORY and uploads it', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'az-platform-test-'));
    const { platform, lines } = makePlatform({ AGENT_TEMPDIRECTORY: temp });
    const markdown = '## Image\n\n| tag | digest |\n|---|---|\n| v1 | sha256:abc |';
    await platform.summary(markdown);
    expect(lines).toHaveLength(1);
    const match = /^##vso\[task\.uploadsummary\](.+\.md)$/.exec(lines[0] ?? '');
    expect(match).not.toBeNull();
    const file = match?.[1] ?? '';
    expect(dirname(dirname(file))).toBe(temp);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(markdown);
  });

  test('two summaries go to two files', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'az-platform-test-'));
    const { platform, lines } = makePlatform({ AGENT_TEMPDIRECTORY: temp });
    await platform.summary('first');
    await platform.summary('second');
    const files = lines.map((line) => line.replace('##vso[task.uploadsummary]', ''));
    expect(files[0]).not.toBe(files[1]);
    expect(files.map((file) => readFileSync(file, 'utf8'))).toEqual(['first', 'second']);
  });

  test('fail logs an error, completes the task as Failed and sets exitCode 1', () => {
    const { platform, lines } = makePlatform({});
    platform.setSecret('topsecret');
    lines.length = 0;
    process.exitCode = 0;
    platform.fail('login with topsecret failed\nsecond line');
    expect(process.exitCode).toBe(1);
    expect(lines).toEqual([
      '##vso[task.logissue type=error;]login with *** failed second line',
      '##vso[task.complete result=Failed;]login with *** failed',
    ]);
  });
});

describe('AzurePlatform context', () => {
  test('ci context comes from the agent variables', () => {
    const { platform } = makePlatform({
      BUILD_SOURCEVERSION: 'deadbeef',
      BUILD_BUILDID: '321',
      BUILD_BUILDNUMBER: '20240101.1',
      SYSTEM_COLLECTIONURI: 'https://dev.azure.com/org/',
      SYSTEM_TEAMPROJECT: 'My Project',
      BUILD_REPOSITORY_URI: 'https://dev.azure.com/org/My%20Project/_git/repo',
      BUILD_SOURCESDIRECTORY: '/agent/_work/1/s',
    });
    expect(platform.name).toBe('azure');
    expect(platform.ci).toEqual({
      sha: 'deadbeef',
      runId: '321',
      runNumber: '20240101.1',
      runUrl: 'https://dev.azure.com/org/My%20Project/_build/results?buildId=321',
      repositoryUrl: 'https://dev.azure.com/org/My%20Project/_git/repo',
      workspace: '/agent/_work/1/s',
    });
  });

  test('the run URL adds the missing slash and falls back to SYSTEM_TEAMFOUNDATIONCOLLECTIONURI', () => {
    const noSlash = makePlatform({ SYSTEM_COLLECTIONURI: 'https://tfs.example.com/coll', SYSTEM_TEAMPROJECT: 'p', BUILD_BUILDID: '1' });
    expect(noSlash.platform.ci.runUrl).toBe('https://tfs.example.com/coll/p/_build/results?buildId=1');
    const fallback = makePlatform({ SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: 'https://dev.azure.com/o/', SYSTEM_TEAMPROJECT: 'p', BUILD_BUILDID: '2' });
    expect(fallback.platform.ci.runUrl).toBe('https://dev.azure.com/o/p/_build/results?buildId=2');
    expect(makePlatform({ BUILD_BUILDID: '3' }).platform.ci.runUrl).toBe('');
  });

  test.each([
    ['true', true],
    ['True', true],
    ['false', false],
    ['1', false],
    [undefined, false],
  ])('SYSTEM_DEBUG=%s gives isDebug %s', (value, expected) => {
    const env: NodeJS.ProcessEnv = value === undefined ? {} : { SYSTEM_DEBUG: value };
    expect(makePlatform(env).platform.isDebug).toBe(expected);
  });
});

describe('AzurePlatform service connections', () => {
  test('reads the endpoint from ENDPOINT_URL_/ENDPOINT_AUTH_ JSON and masks the password', () => {
    const { platform, lines } = makePlatform({
      INPUT_CONTAINERREGISTRY: ` ${ENDPOINT_ID} `,
      [`ENDPOINT_URL_${KEY}`]: 'https://r.example.com',
      [`ENDPOINT_AUTH_${KEY}`]: JSON.stringify({
        scheme: 'UsernamePassword',
        parameters: { username: 'u-user', password: 'p-pass-word', registry: 'https://r.example.com' },
      }),
      [`ENDPOINT_DATA_${KEY}_REGISTRYTYPE`]: 'Others',
    });
    const connection = platform.getServiceConnection('containerRegistry');
    expect(connection).toEqual({
      id: ENDPOINT_ID,
      url: 'https://r.example.com',
      scheme: 'UsernamePassword',
      parameters: { username: 'u-user', password: 'p-pass-word', registry: 'https://r.example.com' },
      data: { registrytype: 'Others' },
    });
    expect(lines).toContain('##vso[task.setsecret]p-pass-word');
    expect(lines.some((line) => line.includes('u-user'))).toBe(false);
    expect(platform.redact('login p-pass-word')).toBe('login ***');
    lines.length = 0;
    platform.info('password is p-pass-word');
    expect(lines).toEqual(['password is ***']);
  });

  test('reads ENDPOINT_AUTH_SCHEME_ and ENDPOINT_AUTH_PARAMETER_<ID>_<KEY> variables', () => {
    const { platform, lines } = makePlatform({
      INPUT_CONTAINERREGISTRY: ENDPOINT_ID,
      [`ENDPOINT_URL_${KEY}`]: 'https://r.example.com',
      [`ENDPOINT_AUTH_SCHEME_${KEY}`]: 'UsernamePassword',
      [`ENDPOINT_AUTH_PARAMETER_${KEY}_USERNAME`]: 'u-user',
      [`ENDPOINT_AUTH_PARAMETER_${KEY}_PASSWORD`]: 'p-pass-word',
      [`ENDPOINT_AUTH_PARAMETER_${KEY}_REGISTRY`]: 'https://r.example.com',
    });
    const connection = platform.getServiceConnection('containerRegistry');
    expect(connection?.scheme).toBe('UsernamePassword');
    expect(connection?.url).toBe('https://r.example.com');
    expect(connection?.parameters).toEqual({ username: 'u-user', password: 'p-pass-word', registry: 'https://r.example.com' });
    expect(lines).toContain('##vso[task.setsecret]p-pass-word');
  });

  test('JSON parameters win over per-parameter variables', () => {
    const { platform } = makePlatform({
      INPUT_CONTAINERREGISTRY: ENDPOINT_ID,
      [`ENDPOINT_AUTH_${KEY}`]: JSON.stringify({ scheme: 'UsernamePassword', parameters: { username: 'from-json' } }),
      [`ENDPOINT_AUTH_PARAMETER_${KEY}_USERNAME`]: 'from-variable',
    });
    expect(platform.getServiceConnection('containerRegistry')?.parameters.username).toBe('from-json');
  });

  test('only the chosen endpoint is read', () => {
    const other = 'ffffffff-0000-4000-8000-000000000000'.toUpperCase();
    const { platform, lines } = makePlatform({
      INPUT_CONTAINERREGISTRY: ENDPOINT_ID,
      [`ENDPOINT_URL_${KEY}`]: 'https://mine.example.com',
      [`ENDPOINT_AUTH_PARAMETER_${KEY}_USERNAME`]: 'mine',
      [`ENDPOINT_URL_${other}`]: 'https://other.example.com',
      [`ENDPOINT_AUTH_PARAMETER_${other}_PASSWORD`]: 'other-password',
    });
    const connection = platform.getServiceConnection('containerRegistry');
    expect(connection?.url).toBe('https://mine.example.com');
    expect(connection?.parameters).toEqual({ username: 'mine' });
    expect(lines.some((line) => line.includes('other-password'))).toBe(false);
  });

  test('no connection when the input is empty or the endpoint is unknown', () => {
    expect(makePlatform({}).platform.getServiceConnection('containerRegistry')).toBeUndefined();
    expect(makePlatform({ INPUT_CONTAINERREGISTRY: '  ' }).platform.getServiceConnection('containerRegistry')).toBeUndefined();
    expect(
      makePlatform({ INPUT_CONTAINERREGISTRY: 'not-a-known-id' }).platform.getServiceConnection('containerRegistry'),
    ).toBeUndefined();
  });
});
