import { parse } from 'yaml';
import { parseGivenParameters, typeParameters, v1Parameters, v2Parameters, type GivenParameter } from '../../shared/kfp/parameters.js';
import { v1Pipeline, v2Pipeline } from '../helpers/fake-kfp/packages.js';

const v2 = v2Parameters(parse(v2Pipeline()));
const v1 = v1Parameters(parse(v1Pipeline()));

async function given(text: string): Promise<GivenParameter[]> {
  const result = await parseGivenParameters(text);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

async function typed(text: string, kind: 'v2' | 'v1' = 'v2'): Promise<Record<string, unknown> | string> {
  return typeParameters(kind === 'v2' ? v2 : v1, await given(text), kind);
}

describe('parseGivenParameters: a YAML or JSON map', () => {
  test('scalars are kept as written, so YAML does not turn a SHA like 1234e5 into a number', async () => {
    expect(await given('training_image: acr.io/t@sha256:1234e5\ntag: 1234e5\nq: "quoted"\nempty:\n')).toEqual([
      { name: 'training_image', text: 'acr.io/t@sha256:1234e5' },
      { name: 'tag', text: '1234e5' },
      { name: 'q', text: 'quoted' },
      { name: 'empty', text: '' },
    ]);
  });

  test('lists and maps arrive as JSON', async () => {
    expect(await given('{"layers": [1, 2], "hparams": {"dropout": 0.2}}')).toEqual([
      { name: 'layers', value: [1, 2] },
      { name: 'hparams', value: { dropout: 0.2 } },
    ]);
  });

  test('empty input is no parameters', async () => {
    expect(await given('  \n')).toEqual([]);
  });

  test.each([
    ['- a\n- b\n', 'must be a map of parameter names to values (YAML or JSON), got a list'],
    ['just text', 'must be a map of parameter names to values (YAML or JSON), got a single value'],
    ['epochs=5', 'must be a map of parameter names to values (YAML or JSON), got a single value'],
  ])('%j is not a map', async (text, reason) => {
    expect(await parseGivenParameters(text)).toBe(reason);
  });

  test('YAML errors and duplicate keys are reasons, one line each', async () => {
    expect(await parseGivenParameters('a: [1, 2')).toMatch(/^is not YAML or JSON: /);
    expect(await parseGivenParameters('a: 1\na: 2\n')).toMatch(/^is not YAML or JSON: .*unique/);
  });
});

describe('typeParameters: v2 values typed by the pipeline', () => {
  test('CI strings become JSON values of the declared type ("5" for an integer is sent as 5)', async () => {
    expect(
      await typed(`training_image: "acr.io/train@sha256:abc"
epochs: "5"
learning_rate: 1e-3
use_gpu: True
layers: [128, 64]
hparams: '{"dropout": 0.2}'
notify: 42`),
    ).toEqual({
      training_image: 'acr.io/train@sha256:abc',
      epochs: 5,
      learning_rate: 0.001,
      use_gpu: true,
      layers: [128, 64],
      hparams: { dropout: 0.2 },
      notify: '42',
    });
  });

  test('a list given as a JSON string, and a struct as a YAML map', async () => {
    expect(await typed('training_image: x\nepochs: 1\nlayers: "[1, 2]"\nhparams:\n  depth: 3\n')).toEqual({
      training_image: 'x',
      epochs: 1,
      layers: [1, 2],
      hparams: { depth: 3 },
    });
  });

  test.each([
    ['epochs: abc', "parameter 'epochs' is an integer; 'abc' is not one"],
    ['epochs: 2.5', "parameter 'epochs' is an integer; '2.5' is not one"],
    ['epochs: 99999999999999999999', "parameter 'epochs' is an integer; '99999999999999999999' is not one"],
    ['epochs: 1\nlearning_rate: fast', "parameter 'learning_rate' is a number; 'fast' is not one"],
    ['epochs: 1\nuse_gpu: yes', "parameter 'use_gpu' is true or false; got 'yes'"],
    ['epochs: 1\nlayers: 3', "parameter 'layers' is a list (a YAML list or a JSON array); '3' is not one"],
    ['epochs: 1\nhparams: [1]', "parameter 'hparams' is a struct (a YAML map or a JSON object); got a list"],
    ['epochs: 1\nnotify: [a]', "parameter 'notify' is a string; got a list (quote it to pass it as text)"],
    ['epochs:', "parameter 'epochs' is an integer; it has no value"],
  ])('%j is refused', async (text, reason) => {
    expect(await typed(`training_image: x\n${text}`)).toBe(reason);
  });

  test('an unknown name lists what the pipeline declares', async () => {
    expect(await typed('training_image: x\nepochs: 1\nepoch: 2')).toBe(
      "unknown parameter 'epoch': the pipeline declares training_image, epochs, learning_rate, use_gpu, layers, hparams, notify",
    );
  });

  test('required parameters without a default must be given', async () => {
    expect(await typed('learning_rate: 0.1')).toBe("the pipeline requires 'training_image', 'epochs' and declares no default");
  });

  test('v2 names are matched exactly', async () => {
    expect(await typed('training-image: x\nepochs: 1')).toMatch(/^unknown parameter 'training-image'/);
  });
});

describe('typeParameters: v1 values are strings under their compiled names', () => {
  test('image_tag and imageTag find image-tag; lists are sent as JSON text', async () => {
    expect(await typed('image_tag: 1234e5\nepochs: 7\nmodel-name: [a, b]', 'v1')).toEqual({ 'image-tag': '1234e5', epochs: '7', 'model-name': '["a","b"]' });
    expect(await typed('Image_Tag: v1', 'v1')).toEqual({ 'image-tag': 'v1' });
  });

  test('a parameter without a value in the workflow is required; two names for one parameter are refused', async () => {
    expect(await typed('epochs: 3', 'v1')).toBe("the pipeline requires 'image-tag' and declares no default");
    expect(await typed('image_tag: a\nimage-tag: b', 'v1')).toBe("parameter 'image-tag' is given twice");
  });
});
