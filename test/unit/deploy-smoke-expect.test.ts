import { checkAnswer, parseSmokeExpect, type SmokeExpect } from '../../shared/deploy/smoke-expect.js';

/** Parses text that must be valid. */
function parsed(text: string): SmokeExpect {
  const result = parseSmokeExpect(text);
  if (typeof result === 'string') throw new Error(`expected a valid expectation, got: ${result}`);
  return result;
}

function problem(text: string): string {
  const result = parseSmokeExpect(text);
  if (typeof result !== 'string') throw new Error(`expected a problem, got ${JSON.stringify(result)}`);
  return result;
}

const v1Answer = JSON.stringify({ predictions: [0.12, 0.93, 0.5], model_name: 'sklearn-iris', 'odd key': { n: 1 } });
const v2Answer = JSON.stringify({
  model_name: 'iris',
  outputs: [{ name: 'out', datatype: 'FP32', shape: [2], data: [1, 2] }],
});

describe('parseSmokeExpect: the format', () => {
  test('empty or comments only: status 200 and no checks', () => {
    expect(parsed('')).toEqual({ status: { code: 200 }, checks: [] });
    expect(parsed('\n  # nothing to see\n\n')).toEqual({ status: { code: 200 }, checks: [] });
  });

  test('a status code or a class on the first line, after comments', () => {
    expect(parsed('# first a comment\n201').status).toEqual({ code: 201 });
    expect(parsed('2xx\n$.x exists').status).toEqual({ hundreds: 2 });
    expect(parsed('4XX').status).toEqual({ hundreds: 4 });
    expect(parsed('$.x exists').status).toEqual({ code: 200 });
  });

  test('reads every kind of check and every kind of path step', () => {
    const result = parsed(
      [
        '$.predictions exists',
        '$.model_name == "sklearn-iris"',
        '$.outputs[0].data != [0, 0]',
        '$.predictions[-1] < 0.5',
        '$.predictions[0]<=1',
        "$['model name'] > -3",
        '$["a]b"] >= 1e-3',
        '$.model_name matches ^sk.*iris$',
        '$.predictions length == 3',
        '$ exists',
      ].join('\n'),
    );
    expect(result.checks.map((check) => [check.path.text, check.path.steps, check.op])).toEqual([
      ['$.predictions', ['predictions'], 'exists'],
      ['$.model_name', ['model_name'], '=='],
      ['$.outputs[0].data', ['outputs', 0, 'data'], '!='],
      ['$.predictions[-1]', ['predictions', -1], '<'],
      ['$.predictions[0]', ['predictions', 0], '<='],
      ["$['model name']", ['model name'], '>'],
      ['$["a]b"]', ['a]b'], '>='],
      ['$.model_name', ['model_name'], 'matches'],
      ['$.predictions', ['predictions'], 'length'],
      ['$', [], 'exists'],
    ]);
    expect(result.checks[1]).toMatchObject({ value: 'sklearn-iris' });
    expect(result.checks[2]).toMatchObject({ value: [0, 0] });
    expect(result.checks[3]).toMatchObject({ value: 0.5 });
    expect(result.checks[5]).toMatchObject({ value: -3 });
    expect(result.checks[6]).toMatchObject({ value: 0.001 });
    expect(result.checks[8]).toMatchObject({ value: 3 });
  });

  test('a quote inside a bracketed name is escaped with a backslash', () => {
    expect(parsed("$['it\\'s'] exists").checks[0]?.path.steps).toEqual(["it's"]);
  });
});

describe('parseSmokeExpect: problems name the line and say what to write', () => {
  test('a misspelt operator', () => {
    const text = problem('200\n$.x =! 3');
    expect(text).toMatch(/^line 2: '\$\.x =! 3' is not a check: write '<path> == <json>'/);
    expect(text).toContain("'<path> exists'");
  });

  test('a line that is not a path', () => {
    expect(problem('\n\nmodel_name == "x"')).toMatch(/^line 3: .* does not start with a path: paths look like \$, \$\.outputs\[0\]\.data/);
  });

  test('a value after == that is not JSON hints at the double quotes', () => {
    expect(problem('$.model_name == sklearn')).toMatch(/^line 1: .*'sklearn' is not one \(put strings in double quotes/);
    expect(problem('$.x ==')).toMatch(/^line 1: .*after == comes a JSON value/);
  });

  test('a comparison with something other than a number', () => {
    expect(problem('$.x < "a"')).toMatch(/^line 1: .*after < comes a number/);
  });

  test('length takes only == and a whole number', () => {
    expect(problem('$.x length > 2')).toMatch(/write '<path> length == <n>'/);
    expect(problem('$.x length == 2.5')).toMatch(/write '<path> length == <n>'/);
  });

  test('a broken regular expression', () => {
    expect(problem('$.x matches (unclosed')).toMatch(/^line 1: .*not a valid regular expression/);
  });

  test('broken paths', () => {
    expect(problem('$. == 1')).toMatch(/^line 1: .*a name must follow '\.' at column 3/);
    expect(problem("$['x exists")).toMatch(/^line 1: .*not closed with '\]/);
    expect(problem('$[x] exists')).toMatch(/^line 1: .*needs an index or a quoted name/);
    expect(problem('$x exists')).toMatch(/^line 1: .*unexpected 'x' at column 2/);
  });

  test('a status that is not first, or not a status', () => {
    expect(problem('$.x exists\n200')).toMatch(/^line 2: a status .* must be the first line/);
    expect(problem('999')).toMatch(/^line 1: '999' is not an HTTP status: write a status code such as 200 or a class such as 2xx/);
    expect(problem('0xx')).toMatch(/^line 1: '0xx' is not an HTTP status/);
  });

  test('a long line is clipped in the message', () => {
    const text = problem(`$.x ~~ ${'y'.repeat(500)}`);
    expect(text.length).toBeLessThan(400);
    expect(text).toContain('…');
  });
});

describe('checkAnswer', () => {
  test('passes an answer that meets everything', () => {
    const expectation = parsed(
      [
        '200',
        '$.predictions exists',
        '$.model_name == "sklearn-iris"',
        '$.predictions != []',
        '$.predictions[-1] <= 0.5',
        '$.predictions[1] > 0.9',
        "$['odd key'] == {\"n\": 1.0}",
        '$.model_name matches ^sklearn',
        '$.predictions[0] matches ^0\\.1',
        '$.predictions length == 3',
        '$.model_name length == 12',
      ].join('\n'),
    );
    expect(checkAnswer(expectation, 200, v1Answer)).toEqual([]);
  });

  test('the default: 200 and any body', () => {
    expect(checkAnswer(parsed(''), 200, 'not even JSON')).toEqual([]);
    expect(checkAnswer(parsed(''), 201, '')).toEqual(['status: expected 200, got 201']);
  });

  test('a status class', () => {
    expect(checkAnswer(parsed('2xx'), 204, '')).toEqual([]);
    expect(checkAnswer(parsed('2xx'), 302, '')).toEqual(['status: expected 2xx, got 302']);
  });

  test('a wrong status is the only failure, with the start of the body on one line', () => {
    const failures = checkAnswer(parsed('$.x exists'), 503, `upstream\nconnect error ${'z'.repeat(300)}`);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^status: expected 200, got 503: upstream connect error z+…$/);
    expect(failures[0]?.length).toBeLessThan(160);
  });

  test('a body that is not JSON fails once when there are checks', () => {
    expect(checkAnswer(parsed('$.x exists\n$.y exists'), 200, '<html>oops</html>')).toEqual(["body: expected JSON, got '<html>oops</html>'"]);
  });

  test('each failing check says expected and got', () => {
    const expectation = parsed(
      [
        '$.model_name == "other"',
        '$.model_name != "iris"',
        '$.outputs[0].data[1] < 2',
        '$.outputs[0].datatype >= 1',
        '$.outputs[0].name matches ^in',
        '$.outputs length == 2',
        '$.outputs[0].shape[0] length == 1',
      ].join('\n'),
    );
    expect(checkAnswer(expectation, 200, v2Answer)).toEqual([
      '$.model_name: expected == "other", got "iris"',
      '$.model_name: expected != "iris", got "iris"',
      '$.outputs[0].data[1]: expected < 2, got 2',
      '$.outputs[0].datatype: expected >= 1, got "FP32" (a string, not a number)',
      '$.outputs[0].name: expected to match /^in/, got "out"',
      '$.outputs: expected length == 2, got length 1: [{"name":"out","datatype":"FP32","shape":[2],"data":[1,2]}]',
      '$.outputs[0].shape[0]: expected length == 1, got 2 (a number, which has no length)',
    ]);
  });

  test('a path that is not there says where it stops', () => {
    const expectation = parsed(['$.outputs[0].dat exists', '$.outputs[3].data == 1', '$.outputs[-2] exists', '$.model_name[0] exists', '$.outputs.x exists'].join('\n'));
    expect(checkAnswer(expectation, 200, v2Answer)).toEqual([
      "$.outputs[0].dat: expected to exist, but $.outputs[0] has no 'dat' (its keys: name, datatype, shape, data)",
      '$.outputs[3].data: expected == 1, but $.outputs has 1 item, so no [3]',
      '$.outputs[-2]: expected to exist, but $.outputs has 1 item, so no [-2]',
      '$.model_name[0]: expected to exist, but $.model_name is a string, not a list',
      '$.outputs.x: expected to exist, but $.outputs is a list, not an object',
    ]);
  });

  test('a negative index past the start of a longer list', () => {
    expect(checkAnswer(parsed('$.predictions[-4] exists'), 200, v1Answer)).toEqual(['$.predictions[-4]: expected to exist, but $.predictions has 3 items, so no [-4]']);
  });

  test('null exists, and == null finds it', () => {
    expect(checkAnswer(parsed('$.x exists\n$.x == null'), 200, '{"x": null}')).toEqual([]);
  });

  test('== compares JSON: key order does not matter, types do', () => {
    expect(checkAnswer(parsed('$ == {"b": [1, {"c": true}], "a": 1}'), 200, '{"a":1.0,"b":[1,{"c":true}]}')).toEqual([]);
    expect(checkAnswer(parsed('$.a == 1'), 200, '{"a":"1"}')).toEqual(['$.a: expected == 1, got "1"']);
    expect(checkAnswer(parsed('$.a == [1, 2]'), 200, '{"a":[1,2,3]}')).toEqual(['$.a: expected == [1,2], got [1,2,3]']);
    expect(checkAnswer(parsed('$.a == {"x": 1}'), 200, '{"a":{"x":1,"y":2}}')).toHaveLength(1);
  });

  test('actual values are clipped to about 100 characters', () => {
    const failures = checkAnswer(parsed('$.a == 1'), 200, JSON.stringify({ a: 'q'.repeat(1000) }));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.length).toBeLessThan(140);
    expect(failures[0]).toMatch(/q…$/);
  });
});
