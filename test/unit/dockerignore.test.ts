import { cleanPath, DockerIgnore } from '../../shared/context/dockerignore.js';
import { UserError } from '../../shared/util/errors.js';

/** [.dockerignore lines, path, excluded?] */
type Case = [string[], string, boolean];

const check = (cases: Case[]) =>
  test.each(cases)('%j on %s -> excluded %s', (lines, path, excluded) => {
    expect(DockerIgnore.parse(lines.join('\n')).excludes(path)).toBe(excluded);
  });

describe('DockerIgnore: plain names and directories', () => {
  check([
    [['secret.txt'], 'secret.txt', true],
    [['secret.txt'], 'other.txt', false],
    [['secret.txt'], 'sub/secret.txt', false], // no implicit "anywhere", unlike .gitignore
    [['docs'], 'docs', true],
    [['docs'], 'docs/a/b/c.txt', true], // a matching directory excludes everything below it
    [['docs'], 'docsx', false],
    [['docs'], 'my-docs/a', false],
    [['a/b'], 'a/b/c', true],
    [['a/b'], 'a', false],
    [['abc.def'], 'abcZdef', false], // '.' is a plain dot
    [['a(b)c/def'], 'a(b)c/def', true],
    [['a.|)$(}+{bc'], 'a.|)$(}+{bc', true],
    [['dist/proxy-2.4.0+g08acad9-py3-none-any.whl'], 'dist/proxy-2.4.0+g08acad9-py3-none-any.whl', true],
    [[], 'anything', false],
  ]);
});

describe('DockerIgnore: cleaning (leading /, ./, trailing /, .., repeated slashes)', () => {
  check([
    [['/secret.txt'], 'secret.txt', true],
    [['/a/b'], 'a/b/c', true],
    [['./build'], 'build/out.o', true],
    [['build/'], 'build/out.o', true],
    [['build/'], 'build', true],
    [['a//b///'], 'a/b', true],
    [['a/./b'], 'a/b', true],
    [['a/x/../b'], 'a/b', true],
    [['/../secret'], 'secret', true], // '..' above a rooted path goes away
    [['!/keep', '*'], 'keep', true], // order still matters after cleaning
  ]);

  test.each([
    ['a//b/', 'a/b'],
    ['./a', 'a'],
    ['a/..', '.'],
    ['../a', '../a'],
    ['/..', '/'],
    ['/', '/'],
    ['', '.'],
    ['a/b/../../..', '..'],
  ])('cleanPath(%j) is %j, as Go filepath.Clean', (input, expected) => {
    expect(cleanPath(input)).toBe(expected);
  });

  test('a path given with ./ or slashes around it is normalized before matching', () => {
    const ignore = DockerIgnore.parse('docs');
    expect(ignore.excludes('./docs/a')).toBe(true);
    expect(ignore.excludes('/docs/')).toBe(true);
  });

  test('the context root itself is never excluded', () => {
    const ignore = DockerIgnore.parse('*\n**');
    expect(ignore.excludes('')).toBe(false);
    expect(ignore.excludes('.')).toBe(false);
    expect(ignore.canSkipDirectory('.')).toBe(false);
  });
});

describe('DockerIgnore: comments, blank lines and white space', () => {
  test('# in the first column is a comment; blank and white-space lines are skipped', () => {
    const ignore = DockerIgnore.parse('# secret.txt\n\n   \n\t\nbuild\n');
    expect(ignore.patterns).toEqual(['build']);
    expect(ignore.excludes('secret.txt')).toBe(false);
  });

  test('# after leading white space is a pattern, not a comment (the reader checks before trimming)', () => {
    expect(DockerIgnore.parse('  #notes').patterns).toEqual(['#notes']);
    expect(DockerIgnore.parse('  #notes').excludes('#notes')).toBe(true);
  });

  test('patterns are trimmed, including around the ! of an exception', () => {
    expect(DockerIgnore.parse('  *.md  \n  !  README.md  ').patterns).toEqual(['*.md', '!README.md']);
  });

  test('CRLF line ends and a UTF-8 byte order mark are ignored', () => {
    const ignore = DockerIgnore.parse('\uFEFFsecret.txt\r\n# c\r\nbuild\r\n');
    expect(ignore.patterns).toEqual(['secret.txt', 'build']);
    expect(ignore.excludes('secret.txt')).toBe(true);
  });
});

describe('DockerIgnore: wildcards', () => {
  check([
    [['*'], 'file', true],
    [['*'], 'dir/file', true], // through the parent 'dir'
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/README.md', false], // '*' does not cross '/'
    [['*/*.md'], 'docs/README.md', true],
    [['*/*.md'], 'a/b/README.md', false],
    [['a*'], 'ab/c', true], // parent 'ab' matches
    [['a*/b'], 'abc/b', true],
    [['a*/b'], 'a/c/b', false],
    [['*/temp*'], 'somedir/temporary.txt', true],
    [['*/temp*'], 'somedir/sub/temporary.txt', false],
    [['*/*/temp*'], 'somedir/sub/temporary.txt', true],
    [['temp?'], 'temp1', true],
    [['temp?'], 'temp', false],
    [['temp?'], 'temp12', false],
    [['a?b'], 'a/b', false], // '?' does not match '/'
    [['a?b'], 'a☺b', true], // one character, not one byte
    [['a???b'], 'a☺b', false],
    [['.*'], '.env', true],
    [['.*'], 'env', false],
    [['a*b*c*d*e*/f'], 'axbxcxdxexxx/f', true],
    [['a*b*c*d*e*/f'], 'axbxcxdxe/xxx/f', false],
    [['*x'], 'xxx', true],
  ]);
});

describe('DockerIgnore: ** (any number of directories)', () => {
  check([
    [['**'], 'file', true],
    [['**'], 'dir/file', true],
    [['**/*.go'], 'main.go', true], // zero directories
    [['**/*.go'], 'cmd/tool/main.go', true],
    [['**/*.go'], 'main.go.txt', false],
    [['dir/**'], 'dir/file', true],
    [['dir/**'], 'dir/sub/file', true],
    [['dir/**'], 'dir', false], // the directory itself is not below itself
    [['a/**/b'], 'a/b', true], // zero directories in between
    [['a/**/b'], 'a/x/b', true],
    [['a/**/b'], 'a/x/y/b', true],
    [['a/**/b'], 'a/x/y/b/c', true], // and below the match
    [['a/**/b'], 'a/xb', false],
    [['**/dir'], 'dir', true],
    [['**/dir'], 'x/dir/file', true],
    [['**/dir2/*'], 'dir/dir2/file', true],
    [['**/dir2/**'], 'dir/dir2/dir3/file', true],
    [['**/foo/bar'], 'foo/bar', true],
    [['**/foo/bar'], 'dir/dir2/foo/bar', true],
    [['**/.foo'], '.foo', true],
    [['**/.foo'], 'bar.foo', false],
    [['**/**/*.txt'], 'file.txt', true],
    [['**/**/*.txt2'], 'dir/dir/file.txt', false],
    [['a**/*.txt'], 'a/dir/dir/file.txt', true],
    [['a/*.txt**'], 'a/file.txt', true],
    [['**file'], 'dir/file', true],
    [['**.log'], 'a/b/x.log', true], // patternmatcher matches a leading ** with plain text by suffix
    [['**.log'], 'x.log', true],
    [['**/node_modules'], 'web/node_modules/react/index.js', true],
  ]);
});

describe('DockerIgnore: character classes and escapes', () => {
  check([
    [['a[b-d]e'], 'ace', true],
    [['a[b-d]e'], 'aae', false],
    [['a[b-d]e'], 'ae', false],
    [['a[^b-d]e'], 'aze', true],
    [['a[^b-d]e'], 'ace', false],
    [['ab[c]'], 'abc', true],
    [['file[0-9].txt'], 'file7.txt', true],
    [['file[0-9].txt'], 'filex.txt', false],
    [['[!a]'], '!', true], // '!' is no negation in filepath.Match: it is a member of the class
    [['[!a]'], 'b', false],
    [['[\\]a]'], ']', true],
    [['[\\-x]'], '-', true],
    [['[x\\-]'], 'z', false],
    [['[a-ζ]*'], 'α', true],
    [['a[^x]b'], 'a/b', true], // patternmatcher hands classes to a regexp, which lets them match '/'
    [['a\\*b'], 'a*b', true],
    [['a\\*b'], 'axb', false],
    [['a\\?'], 'a?', true],
    [['\\[literal\\]'], '[literal]', true],
    [['a\\\\'], 'a\\', true],
    [['a]'], 'a]', true], // a stray ']' is a plain character
  ]);

  test.each([
    ['['],
    ['a['],
    ['[^'],
    ['[^bc'],
    ['[]a]'],
    ['[-]'],
    ['[x-]'],
    ['[-x]'],
    ['[a-b-c]'],
    ['[z-a]'],
    ['abc\\'],
  ])('a malformed pattern %j fails as docker build does, naming the line', (pattern) => {
    expect(() => DockerIgnore.parse(`ok\n${pattern}`)).toThrow(UserError);
    expect(() => DockerIgnore.parse(`ok\n${pattern}`)).toThrow(/^\.dockerignore line 2: pattern '.*'/);
  });

  test('a lone ! is refused', () => {
    expect(() => DockerIgnore.parse('!', 'ci/Dockerfile.dockerignore')).toThrow(
      "ci/Dockerfile.dockerignore line 1: '!' needs a pattern after it",
    );
  });
});

describe('DockerIgnore: ! exceptions and the last match wins', () => {
  check([
    [['*.md', '!README.md'], 'README.md', false],
    [['*.md', '!README.md'], 'CHANGES.md', true],
    [['!README.md', '*.md'], 'README.md', true], // an earlier exception is overridden
    [['*.md', '!README*.md', 'README-secret.md'], 'README-secret.md', true], // the docs' example
    [['*.md', '!README*.md', 'README-secret.md'], 'README-public.md', false],
    [['docs', '!docs/keep.txt'], 'docs/keep.txt', false],
    [['docs', '!docs/keep.txt'], 'docs/other.txt', true],
    [['docs', '!docs/keep.txt'], 'docs', true],
    [['docs/', '!docs/README.md'], 'docs/README.md', false],
    [['docs/*', '!docs/README.md'], 'docs/README.md', false],
    [['**', '!src'], 'src/main.py', false], // an exception on a directory re-includes all of it
    [['**', '!src'], 'tests/test.py', true],
    [['**', '!util/docker/web'], 'util/docker/web/foo', false],
    [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
    [['**', '!**/*.py'], 'a/b/c.py', false],
    [['**', '!dist/*.whl'], 'dist/pkg-1.0-py3-none-any.whl', false],
    [['*', '!keep', 'keep/tmp'], 'keep/tmp/x', true],
    [['*', '!keep', 'keep/tmp'], 'keep/src/x', false],
  ]);
});

describe('DockerIgnore.canSkipDirectory', () => {
  // [lines, dir, may skip?]
  test.each<Case>([
    [['node_modules'], 'node_modules', true],
    [['node_modules'], 'src', false], // not excluded: must be walked
    [['**/node_modules'], 'web/node_modules', true],
    [['docs', '!docs/keep.txt'], 'docs', false],
    [['docs', '!docs/sub/keep.txt'], 'docs', false],
    [['docs', '!docs/keep.txt'], 'docs/sub', true], // 'docs/keep.txt' cannot be below docs/sub
    [['docs', '!other/keep.txt'], 'docs', true],
    [['docs', '!*.md'], 'docs', true], // '*.md' only matches at the root
    [['docs', '!*/*.md'], 'docs', false],
    [['docs', '!**/*.md'], 'docs', false], // could be anywhere below
    [['docs', '!d*/keep'], 'docs', false],
    [['docs', '!x*/keep'], 'docs', true],
    [['docs', '!docs'], 'docs', false], // not excluded at all
    [['!docs', 'docs'], 'docs', true], // the exception came first and cannot win for anything inside
    [['docs', '!a[^x]b/c'], 'docs', false], // a class that can match '/': no segment reasoning
    [['a/b', '!a/b/c/d'], 'a/b', false],
    [['a/b', '!a/b/c/d'], 'a/b/c', false],
    [['a/b', '!a/b/c/d'], 'a/b/e', true],
  ])('%j: may skip %s -> %s', (lines, dir, skip) => {
    expect(DockerIgnore.parse(lines.join('\n')).canSkipDirectory(dir)).toBe(skip);
  });

  test('never claims a skip when something inside would be included (exhaustive over a small tree)', () => {
    const tree = ['a', 'a/b', 'a/b/c.md', 'a/b/d.txt', 'a/e.md', 'f', 'f/g.txt', 'f/h', 'f/h/i.md'];
    const patternSets = [
      ['a', '!a/b/c.md'],
      ['*', '!**/*.md'],
      ['a/*', '!a/e.md'],
      ['**', '!f/h'],
      ['f', '!f/*/i.md'],
      ['a', 'f', '!*/b'],
      ['**/b', '!a/b/d*'],
    ];
    for (const patterns of patternSets) {
      const ignore = DockerIgnore.parse(patterns.join('\n'));
      for (const dir of tree) {
        if (!ignore.canSkipDirectory(dir)) continue;
        const inside = tree.filter((path) => path.startsWith(`${dir}/`));
        expect({ patterns, dir, included: inside.filter((path) => !ignore.excludes(path)) }).toEqual({
          patterns,
          dir,
          included: [],
        });
      }
    }
  });
});

describe('DockerIgnore.match', () => {
  test('with the parent directory match gives the same verdict as matching from scratch', () => {
    const ignore = DockerIgnore.parse('docs\n!docs/keep\n**/*.tmp\n!**/important.tmp');
    const paths = ['docs', 'docs/keep', 'docs/keep/x.tmp', 'docs/keep/important.tmp', 'src', 'src/a.tmp'];
    const memo = new Map<string, ReturnType<DockerIgnore['match']>>();
    for (const path of paths) {
      const parentPath = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;
      const incremental = ignore.match(path, parentPath ? memo.get(parentPath) : undefined);
      memo.set(path, incremental);
      expect([path, incremental.excluded]).toEqual([path, ignore.excludes(path)]);
    }
  });
});
