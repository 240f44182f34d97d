import { randomBytes } from 'node:crypto';

export interface FilePart {
  field: string;
  filename: string;
  content: Buffer;
}

/** A multipart/form-data body with one file, as the KFP upload endpoints read it (Go's r.FormFile). */
export function multipartBody(part: FilePart): { body: Buffer; contentType: string } {
  const boundary = `mlops-tasks-${randomBytes(12).toString('hex')}`;
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${part.field}"; filename="${part.filename.replace(/["\r\n]/g, '_')}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n';
  const body = Buffer.concat([Buffer.from(head), part.content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
