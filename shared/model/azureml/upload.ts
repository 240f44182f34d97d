import type { ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { ModelFile, TargetLog } from '../target.js';
import { CancelledError, UserError, errorMessage, oneLine } from '../../util/errors.js';
import { runPool } from '../../util/pool.js';
import type { Redactor } from '../../util/redact.js';
import type { BlobDestination } from './datastore.js';

/**
 * Memory: uploadFile streams each block from the file (no buffers held), so RSS is bounded by
 * requests in flight, not by model size. 8 MiB blocks x 4 per file x 4 files keeps 16 requests
 * busy; files up to one block go in a single PUT.
 */
const BLOCK_SIZE = 8 * 1024 * 1024;
const BLOCKS_IN_FLIGHT_PER_FILE = 4;
const FILES_IN_FLIGHT = 4;
/** HEAD requests are cheap: check many blobs at once. */
const CHECKS_IN_FLIGHT = 16;
/** Blob metadata holding the file's sha256: how a re-run knows a blob is already right. */
export const DIGEST_METADATA = 'sha256';
const PROGRESS_INTERVAL_MS = 2_000;

export interface UploadResult {
  uploadedFiles: number;
  uploadedBytes: number;
  skippedFiles: number;
}

export interface UploadRequest {
  destination: BlobDestination;
  /** Blob folder; each file goes to `${folder}/${file.path}`. */
  folder: string;
  files: readonly ModelFile[];
  /** For identity-based datastores. */
  storageCredential: () => TokenCredential;
  redactor: Redactor;
  log: TargetLog;
  signal: AbortSignal;
}

async function containerClient(request: UploadRequest): Promise<ContainerClient> {
  // Big SDK: loaded only when a model is actually uploaded.
  const storage = await import('@azure/storage-blob');
  const { destination } = request;
  const pipelineOptions = { retryOptions: { maxTries: 4 } };
  switch (destination.auth.kind) {
    case 'account-key':
      return new storage.ContainerClient(destination.containerUrl, new storage.StorageSharedKeyCredential(destination.auth.accountName, destination.auth.accountKey), pipelineOptions);
    case 'sas':
      return new storage.ContainerClient(`${destination.containerUrl}?${destination.auth.sasToken}`, new storage.AnonymousCredential(), pipelineOptions);
    case 'entra':
      return new storage.ContainerClient(destination.containerUrl, request.storageCredential(), pipelineOptions);
  }
}

/** One line, no SAS or key: the SDK's messages can run long and quote request details. */
function uploadError(request: UploadRequest, action: string, blobName: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  if ((error as Error).name === 'AbortError' || request.signal.aborted) return new CancelledError('the model upload');
  const status = (error as { statusCode?: number }).statusCode;
  const code = (error as { code?: string }).code;
  const detail = request.redactor.redact(oneLine(errorMessage(error).split('\n')[0] ?? '')).slice(0, 300);
  const where = `${request.destination.accountName}/${request.destination.containerName}/${blobName}`;
  return new UserError(`${action} blob ${where} (datastore '${request.destination.datastore}') failed: ${[status ? `HTTP ${status}` : '', code ?? '', detail].filter(Boolean).join(' ')}`);
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

/**
 * Uploads the model's files into the datastore, skipping blobs that already hold the same bytes
 * (same size and the same sha256 in their metadata), so a re-run sends nothing.
 */
export async function uploadModelFiles(request: UploadRequest): Promise<UploadResult> {
  const container = await containerClient(request);
  const blobName = (file: ModelFile) => `${request.folder}/${file.path}`;
  const present = await runPool(request.files, CHECKS_IN_FLIGHT, async (file) => {
    try {
      const properties = await container.getBlockBlobClient(blobName(file)).getProperties({ abortSignal: request.signal });
      return properties.contentLength === file.size && properties.metadata?.[DIGEST_METADATA] === hexOf(file.digest);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return false;
      throw uploadError(request, 'reading', blobName(file), error);
    }
  });
  const missing = request.files.filter((_, index) => !present[index]);
  const skippedFiles = request.files.length - missing.length;
  if (skippedFiles) request.log.info(`${skippedFiles} of ${request.files.length} files are already in datastore '${request.destination.datastore}'`);
  const totalBytes = missing.reduce((sum, file) => sum + file.size, 0);
  const loaded = new Map<string, number>();
  let lastReport = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    const done = [...loaded.values()].reduce((sum, bytes) => sum + bytes, 0);
    const percent = totalBytes ? Math.floor((done / totalBytes) * 100) : 100;
    request.log.progress(percent, `uploaded ${(done / 1048576).toFixed(1)} of ${(totalBytes / 1048576).toFixed(1)} MiB to datastore '${request.destination.datastore}'`);
  };
  await runPool(missing, FILES_IN_FLIGHT, async (file) => {
    const name = blobName(file);
    try {
      await container.getBlockBlobClient(name).uploadFile(file.absolutePath, {
        blockSize: BLOCK_SIZE,
        maxSingleShotSize: BLOCK_SIZE,
        concurrency: BLOCKS_IN_FLIGHT_PER_FILE,
        metadata: { [DIGEST_METADATA]: hexOf(file.digest) },
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
        abortSignal: request.signal,
        onProgress: (progress) => {
          loaded.set(file.path, progress.loadedBytes);
          report();
        },
      });
      loaded.set(file.path, file.size);
    } catch (error) {
      throw uploadError(request, 'uploading', name, error);
    }
  });
  if (missing.length) report(true);
  return { uploadedFiles: missing.length, uploadedBytes: totalBytes, skippedFiles };
}
