import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const Ajv: typeof AjvClass = require('ajv').default;

export type InferenceProtocol = 'v1' | 'v2' | 'both';
/** How the server misbehaves: 500 on infer, a wrong answer, or a model that never gets ready. */
export type ModelFailure = 'none' | '500' | 'wrong-answer' | 'not-ready';

export interface ModelServerOptions {
  /** The model's name in URLs (default 'model'). */
  name?: string;
  protocol?: InferenceProtocol;
  fail?: ModelFailure;
  /** The linear model: prediction = sum(weights[i] * x[i]) + bias (default 4 weights, as for iris). */
  weights?: number[];
  bias?: number;
  /** <specs> for the V2 schema (kserve/predict-api/v2/rest_predict_v2.yaml); without it nothing is checked, which `violations` says. */
  specs?: string;
}

export interface ModelRequest {
  method: string;
  path: string;
  body?: unknown;
  status?: number;
}

const V2_SCHEMA = ['kserve', 'predict-api', 'v2', 'rest_predict_v2.yaml'];

/**
 * A real model server for tests, speaking KServe's V1 and Open Inference (V2) REST protocols over
 * node:http and computing a tiny linear model, so a smoke test's answer can be checked for being
 * right, not only for arriving. Every V2 infer request and every V2 response body is checked
 * against the protocol's OpenAPI schema; problems land in `violations`.
 */
export class ModelServer {
  readonly requests: ModelRequest[] = [];
  readonly violations: string[] = [];
  readonly name: string;
  protocol: InferenceProtocol;
  fail: ModelFailure;
  readonly weights: number[];
  readonly bias: number;
  port = 0;
  origin = '';
  private readonly server = http.createServer((request, response) => void this.handle(request, response));
  private readonly sockets = new Set<Socket>();
  private schemas = new Map<string, ValidateFunction>();
  /** Compiled once per process: compiling costs a few hundred milliseconds. */
  private static readonly compiled = new Map<string, Map<string, ValidateFunction>>();

  private constructor(options: ModelServerOptions) {
    this.name = options.name ?? 'model';
    this.protocol = options.protocol ?? 'both';
    this.fail = options.fail ?? 'none';
    this.weights = options.weights ?? [0.5, -1, 2, 0.25];
    this.bias = options.bias ?? 0.1;
    this.loadSchemas(options.specs);
  }

  static async start(options: ModelServerOptions = {}): Promise<ModelServer> {
    const model = new ModelServer(options);
    model.server.on('connection', (socket: Socket) => {
      model.sockets.add(socket);
      socket.on('close', () => model.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      model.server.once('error', reject);
      model.server.listen(0, '127.0.0.1', () => resolve());
    });
    model.port = (model.server.address() as AddressInfo).port;
    model.origin = `http://127.0.0.1:${model.port}`;
    return model;
  }

  /** What the model answers for rows of features (the right answer, whatever `fail` says). */
  predict(rows: number[][]): number[] {
    return rows.map((row) => Math.round((row.reduce((sum, x, index) => sum + x * (this.weights[index] ?? 0), 0) + this.bias) * 1e6) / 1e6);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private loadSchemas(specs: string | undefined): void {
    const file = specs && join(specs, ...V2_SCHEMA);
    if (!file || !existsSync(file)) {
      this.violations.push(`no V2 schema at ${file ?? '<specs>/' + V2_SCHEMA.join('/')}: requests and responses are not checked`);
      return;
    }
    const cached = ModelServer.compiled.get(file);
    if (cached) {
      this.schemas = cached;
      return;
    }
    ModelServer.compiled.set(file, this.schemas);
    const document = parse(readFileSync(file, 'utf8')) as { components: { schemas: Record<string, unknown> } };
    const definitions = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', 'v2#/definitions/')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    ajv.addSchema({ $id: 'v2', definitions });
    for (const name of Object.keys(definitions)) this.schemas.set(name, ajv.compile({ $ref: `v2#/definitions/${name}` }));
  }

  private check(schema: string, value: unknown, where: string): boolean {
    const validate = this.schemas.get(schema);
    if (!validate || validate(value)) return true;
    for (const error of validate.errors ?? []) this.violations.push(`${where}: ${error.instancePath || '/'} ${error.message}`);
    return false;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    const record: ModelRequest = { method: request.method ?? '', path: url.pathname };
    this.requests.push(record);
    let body: unknown;
    if (text) {
      try {
        body = record.body = JSON.parse(text);
      } catch {
        return this.send(response, record, 400, { error: 'the request body is not JSON' }, 'inference_error_response');
      }
    }
    const path = url.pathname.replace(/\/versions\/[^/]+/, '');
    const v2 = this.protocol !== 'v1';
    const v1 = this.protocol !== 'v2';
    const ready = this.fail !== 'not-ready';
    const model = /^\/v[12]\/models\/([^/:]+)/.exec(path)?.[1];
    if (model !== undefined && model !== this.name) {
      return this.send(response, record, 404, { error: `Model with name ${model} does not exist.` }, 'inference_error_response');
    }
    const route = `${request.method} ${path}`;
    if (v2 && route === 'GET /v2/health/live') return this.send(response, record, 200, { live: true });
    if (v2 && route === 'GET /v2/health/ready') return this.send(response, record, ready ? 200 : 400, { ready });
    if (v2 && route === 'GET /v2') return this.send(response, record, 200, { name: 'mlops-tasks-test-server', version: '0.15.0', extensions: [] }, 'metadata_server_response');
    if (v2 && route === `GET /v2/models/${this.name}/ready`) return this.send(response, record, ready ? 200 : 400, { name: this.name, ready });
    if (v2 && route === `GET /v2/models/${this.name}`) {
      return this.send(response, record, 200, {
        name: this.name,
        versions: ['1'],
        platform: 'mlops-tasks-linear',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, this.weights.length] }],
        outputs: [{ name: 'output-0', datatype: 'FP32', shape: [-1] }],
      }, 'metadata_model_response');
    }
    if (v2 && route === `POST /v2/models/${this.name}/infer`) return this.inferV2(response, record, body);
    if (v1 && route === 'GET /v1/models') return this.send(response, record, 200, { models: [this.name] });
    if (v1 && route === `GET /v1/models/${this.name}`) return this.send(response, record, ready ? 200 : 503, { name: this.name, ready });
    if (v1 && route === `POST /v1/models/${this.name}:predict`) return this.predictV1(response, record, body);
    return this.send(response, record, 404, { error: `no route ${route} on this ${this.protocol} model server` });
  }

  private inferV2(response: ServerResponse, record: ModelRequest, body: unknown): void {
    const error = (status: number, message: string) => this.send(response, record, status, { error: message }, 'inference_error_response');
    if (!this.check('inference_request', body, 'V2 infer request')) return error(400, 'the request does not follow the V2 inference_request schema');
    if (this.fail === 'not-ready') return error(503, `Model with name ${this.name} is not ready.`);
    if (this.fail === '500') return error(500, 'the model server failed (a test asked it to)');
    const request = body as { id?: string; inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[] };
    const input = request.inputs[0];
    if (!input) return error(400, 'no inputs');
    const flat = input.data.flat(Infinity as 1) as unknown[];
    const features = input.shape.length === 2 ? input.shape[1]! : flat.length;
    const rows = input.shape.length === 2 ? input.shape[0]! : 1;
    if (!flat.every((value) => typeof value === 'number')) return error(400, `input ${input.name} must be numeric (${input.datatype})`);
    if (features !== this.weights.length || rows * features !== flat.length) {
      return error(400, `input ${input.name} has shape [${input.shape.join(', ')}] and ${flat.length} values; the model takes [N, ${this.weights.length}]`);
    }
    const matrix = Array.from({ length: rows }, (_, row) => (flat as number[]).slice(row * features, (row + 1) * features));
    const data = this.answer(matrix);
    this.send(response, record, 200, {
      model_name: this.name,
      model_version: '1',
      ...(request.id !== undefined ? { id: request.id } : {}),
      outputs: [{ name: 'output-0', shape: [rows], datatype: 'FP32', data }],
    }, 'inference_response');
  }

  private predictV1(response: ServerResponse, record: ModelRequest, body: unknown): void {
    const instances = (body as { instances?: unknown } | undefined)?.instances;
    const valid = Array.isArray(instances) && instances.every((row) => Array.isArray(row) && row.length === this.weights.length && row.every((x) => typeof x === 'number'));
    if (!valid) {
      this.violations.push(`V1 predict request: instances must be rows of ${this.weights.length} numbers, got ${JSON.stringify(body)}`);
      return this.send(response, record, 400, { error: `instances must be rows of ${this.weights.length} numbers` });
    }
    if (this.fail === 'not-ready') return this.send(response, record, 503, { error: `Model with name ${this.name} is not ready.` });
    if (this.fail === '500') return this.send(response, record, 500, { error: 'the model server failed (a test asked it to)' });
    this.send(response, record, 200, { predictions: this.answer(instances as number[][]) });
  }

  private answer(rows: number[][]): number[] {
    const right = this.predict(rows);
    return this.fail === 'wrong-answer' ? right.map((value) => value + 1) : right;
  }

  private send(response: ServerResponse, record: ModelRequest, status: number, body: unknown, schema?: string): void {
    if (schema) this.check(schema, body, `response to ${record.method} ${record.path}`);
    const json = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    response.end(json);
    record.status = status;
  }
}
