import { ModelServer } from '../helpers/model-server.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED model server tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const call = async (url: string, body?: unknown) => {
  const response = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
};

describeWithSpecs('the test model server speaks V1 and V2 and computes a real answer', () => {
  let model: ModelServer;
  afterEach(async () => {
    await model.close();
  });

  const infer = (inputs: unknown, id = 'req-1') => ({ id, inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: inputs }] });

  test('V2 health, metadata and infer: the linear model answers, request and response follow the schema', async () => {
    model = await ModelServer.start({ name: 'iris', specs });
    expect((await call(`${model.origin}/v2/health/live`)).status).toBe(200);
    expect((await call(`${model.origin}/v2/health/ready`)).status).toBe(200);
    expect(await call(`${model.origin}/v2/models/iris/ready`)).toEqual({ status: 200, body: { name: 'iris', ready: true } });
    expect((await call(`${model.origin}/v2/models/iris`)).body).toMatchObject({ name: 'iris', inputs: [{ shape: [-1, 4] }] });
    const answer = await call(`${model.origin}/v2/models/iris/infer`, infer([1, 2, 3, 4, 0, 0, 0, 0]));
    // 0.5*1 - 2 + 2*3 + 0.25*4 + 0.1 = 5.6, and the bias alone for zeros.
    expect(answer).toEqual({ status: 200, body: { model_name: 'iris', model_version: '1', id: 'req-1', outputs: [{ name: 'output-0', shape: [2], datatype: 'FP32', data: [5.6, 0.1] }] } });
    expect((await call(`${model.origin}/v2/models/iris/versions/1/infer`, infer([[1, 2, 3, 4], [0, 0, 0, 0]]))).body.outputs[0].data).toEqual([5.6, 0.1]);
    expect(model.requests.map((request) => `${request.method} ${request.path} ${request.status}`)).toContain('POST /v2/models/iris/infer 200');
    expect(model.violations).toEqual([]);
  });

  test('a request that breaks the V2 schema is a 400 and a violation; an unknown model is a 404', async () => {
    model = await ModelServer.start({ name: 'iris', specs });
    const bad = await call(`${model.origin}/v2/models/iris/infer`, { inputs: [{ name: 'input-0', data: [1, 2, 3, 4] }] });
    expect(bad.status).toBe(400);
    expect(model.violations).toEqual(["V2 infer request: /inputs/0 must have required property 'shape'", "V2 infer request: /inputs/0 must have required property 'datatype'"]);
    expect((await call(`${model.origin}/v2/models/other/infer`, infer([1, 2, 3, 4, 5, 6, 7, 8]))).body).toEqual({ error: 'Model with name other does not exist.' });
  });

  test('V1 predict, and protocol v2 only has no V1 routes', async () => {
    model = await ModelServer.start({ name: 'iris', specs, protocol: 'v1' });
    expect(await call(`${model.origin}/v1/models/iris:predict`, { instances: [[1, 2, 3, 4]] })).toEqual({ status: 200, body: { predictions: [5.6] } });
    expect((await call(`${model.origin}/v2/health/ready`)).status).toBe(404);
    await model.close();
    model = await ModelServer.start({ name: 'iris', specs, protocol: 'v2' });
    expect((await call(`${model.origin}/v1/models/iris:predict`, { instances: [[1, 2, 3, 4]] })).status).toBe(404);
  });

  test('failure modes: 500, a wrong answer, never ready', async () => {
    model = await ModelServer.start({ name: 'iris', specs, fail: '500' });
    expect((await call(`${model.origin}/v2/models/iris/infer`, infer([1, 2, 3, 4, 0, 0, 0, 0]))).status).toBe(500);
    model.fail = 'wrong-answer';
    const wrong = await call(`${model.origin}/v2/models/iris/infer`, infer([1, 2, 3, 4, 0, 0, 0, 0]));
    expect(wrong.body.outputs[0].data).not.toEqual(model.predict([[1, 2, 3, 4], [0, 0, 0, 0]]));
    model.fail = 'not-ready';
    expect((await call(`${model.origin}/v2/health/ready`)).status).toBe(400);
    expect((await call(`${model.origin}/v2/models/iris/ready`)).body).toEqual({ name: 'iris', ready: false });
    expect((await call(`${model.origin}/v2/models/iris/infer`, infer([1, 2, 3, 4, 0, 0, 0, 0]))).status).toBe(503);
    expect(model.violations).toEqual([]);
  });
});
