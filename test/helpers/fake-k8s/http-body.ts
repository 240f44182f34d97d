import type { IncomingMessage } from 'node:http';
import { parse } from 'yaml';

/** The request body as text. */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The media type alone, without parameters: 'application/apply-patch+yaml'. */
export function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A body as JSON, or as YAML for apply (JSON is YAML too); the error text as the API server words it. */
export function decode(text: string, yaml: boolean): { value: unknown } | { error: string } {
  try {
    return { value: yaml ? parse(text) : JSON.parse(text) };
  } catch (error) {
    return { error: `error decoding ${yaml ? 'YAML' : 'JSON'}: ${(error as Error).message.split('\n')[0]}` };
  }
}
