import https from 'node:https';
import type { FakeKubernetes } from './server.js';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  body: any;
}

/**
 * A bare HTTPS request to the fake with its test CA and a bearer token, for tests of the fake
 * itself (they must not depend on the product's client).
 */
export function k8sRequest(
  fake: FakeKubernetes,
  method: string,
  path: string,
  options: { token: string; body?: unknown; contentType?: string },
): Promise<Answer> {
  const text = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${fake.origin}${path}`,
      {
        method,
        ca: fake.ca.caPem,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(text !== undefined ? { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: body, body: json });
        });
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

/** A watch: events as they arrive, until `until` says stop or the server ends the stream. */
export function k8sWatch(fake: FakeKubernetes, path: string, options: { token: string; until?: (events: any[]) => boolean }): Promise<{ events: any[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    const request = https.get(`${fake.origin}${path}`, { ca: fake.ca.caPem, headers: { authorization: `Bearer ${options.token}` } }, (response) => {
      let buffer = '';
      response.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
          if (options.until?.(events)) {
            request.destroy();
            resolve({ events, ended: false });
            return;
          }
        }
      });
      response.on('end', () => resolve({ events, ended: true }));
    });
    request.on('error', (error) => (request.destroyed && events.length ? resolve({ events, ended: false }) : reject(error)));
  });
}
