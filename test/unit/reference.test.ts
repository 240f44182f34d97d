import { parseChallenge } from '../../shared/registry/challenge.js';
import { apiHost, checkTag, parseImageName } from '../../shared/registry/reference.js';

describe('parseImageName: registry detection', () => {
  test.each([
    // image, registry, repository, name
    ['ubuntu', 'docker.io', 'library/ubuntu', 'docker.io/ubuntu'],
    ['kubeflow/preprocess', 'docker.io', 'kubeflow/preprocess', 'docker.io/kubeflow/preprocess'],
    ['docker.io/ubuntu', 'docker.io', 'library/ubuntu', 'docker.io/ubuntu'],
    ['docker.io/kubeflow/training', 'docker.io', 'kubeflow/training', 'docker.io/kubeflow/training'],
    ['myreg.azurecr.io/team/app', 'myreg.azurecr.io', 'team/app', 'myreg.azurecr.io/team/app'],
    ['ghcr.io/org/app', 'ghcr.io', 'org/app', 'ghcr.io/org/app'],
    ['localhost/app', 'localhost', 'app', 'localhost/app'],
    ['localhost:5000/a/b', 'localhost:5000', 'a/b', 'localhost:5000/a/b'],
    ['registry:5000/app', 'registry:5000', 'app', 'registry:5000/app'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app', '127.0.0.1:5000/app'],
    ['[::1]:5000/app', '[::1]:5000', 'app', '[::1]:5000/app'],
    ['team/sub/app', 'docker.io', 'team/sub/app', 'docker.io/team/sub/app'],
  ])('%s', (image, registry, repository, name) => {
    expect(parseImageName(image)).toEqual({ registry, repository, name });
  });

  test('path components may use the separators . _ __ and runs of -', () => {
    for (const image of ['a.b/c_d', 'a__b', 'a--b', 'a-b-c', 'x1/y2.z3']) {
      expect(typeof parseImageName(image)).toBe('object');
    }
  });
});

describe('parseImageName: errors', () => {
  test('empty', () => {
    expect(parseImageName('')).toBe('is empty');
  });

  test.each(['App', 'team/App', 'example.com/Team/app'])('upper case in %s', (image) => {
    expect(parseImageName(image)).toBe(`'${image}' has upper-case letters: repository names must be lower case`);
  });

  test('upper case in the registry host is allowed', () => {
    expect(parseImageName('Example.COM/app')).toEqual({ registry: 'Example.COM', repository: 'app', name: 'Example.COM/app' });
  });

  test.each(['ubuntu:22.04', 'team/app:latest', 'localhost:5000/app:v1'])('a tag in %s', (image) => {
    expect(parseImageName(image)).toBe(`'${image}' has a tag: give the repository only and put tags in 'tags'`);
  });

  test.each([`app@sha256:${'a'.repeat(64)}`, `ghcr.io/o/app:v1@sha256:${'b'.repeat(64)}`])('a digest in %s', (image) => {
    expect(parseImageName(image)).toBe(`'${image}' has a digest: give the repository only`);
  });

  test.each([
    ['my app', 'my app'],
    ['app!', 'app!'],
    ['team//app', ''],
    ['team/app/', ''],
    ['-app', '-app'],
    ['app-', 'app-'],
    ['a..b', 'a..b'],
    ['a___b', 'a___b'],
    ['example.com/', ''],
  ])('illegal characters in %j', (image, component) => {
    expect(parseImageName(image)).toBe(
      `'${image}' is not a valid repository name: '${component}' may hold only a-z, 0-9 and single separators . _ __ -`,
    );
  });

  test.each(['bad_host.com/app', 'example.com:port/app', '-bad.com/app', 'a.b.:5000/app'])('an invalid registry host in %s', (image) => {
    expect(parseImageName(image)).toMatch(/is not a valid registry host$/);
  });

  test('names over 255 characters fail; 255 characters pass', () => {
    const prefix = 'example.com/';
    const ok = prefix + 'a'.repeat(255 - prefix.length);
    expect(ok).toHaveLength(255);
    expect(parseImageName(ok)).toEqual({ registry: 'example.com', repository: 'a'.repeat(243), name: ok });
    expect(parseImageName(`${ok}a`)).toBe('is longer than 255 characters');
  });
});

describe('checkTag', () => {
  test.each(['latest', 'v1.2.3', '_private', 'sha-0123abc', 'A_b-C.d', '1'])('%s passes', (tag) => {
    expect(checkTag(tag)).toBeUndefined();
  });

  test('128 characters pass, 129 fail', () => {
    expect(checkTag('a'.repeat(128))).toBeUndefined();
    expect(checkTag('a'.repeat(129))).toBe(`tag '${'a'.repeat(20)}…' is longer than 128 characters`);
  });

  test.each(['.hidden', '-dash', 'with space', 'a+b', 'a/b', 'a:b', ''])('%j fails', (tag) => {
    expect(checkTag(tag)).toBe(`tag '${tag}' may hold only letters, digits, _ . - and must not start with . or -`);
  });
});

describe('apiHost', () => {
  test('Docker Hub answers on registry-1.docker.io; other registries on their own host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });

  test('works on a parsed Docker Hub name', () => {
    const parsed = parseImageName('ubuntu');
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(apiHost(parsed.registry)).toBe('registry-1.docker.io');
  });
});

describe('parseChallenge', () => {
  test('Bearer with quoted parameters, commas inside quotes kept', () => {
    const header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push"';
    expect(parseChallenge(header)).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example.com/token',
        service: 'registry.example.com',
        scope: 'repository:team/app:pull,push',
      },
    });
  });

  test('spaces after commas and around =, upper-case names, unquoted values', () => {
    expect(parseChallenge('  BEARER Realm = "https://a.example.com/t?x=1", Service=reg.example.com, error=insufficient_scope')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a.example.com/t?x=1', service: 'reg.example.com', error: 'insufficient_scope' },
    });
  });

  test('escaped quotes inside a quoted value', () => {
    expect(parseChallenge('Bearer realm="a \\"quoted\\" realm"')?.params.realm).toBe('a "quoted" realm');
  });

  test('Basic realm', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });

  test('a scheme without parameters', () => {
    expect(parseChallenge('Negotiate')).toEqual({ scheme: 'negotiate', params: {} });
  });

  test('no header, no challenge', () => {
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('   ')).toBeUndefined();
  });
});
