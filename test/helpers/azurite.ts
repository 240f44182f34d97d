import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { TestCa } from './ca.js';
import { freePort } from './registry.js';
import { root } from './paths.js';

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Keep blobs in this folder instead of memory (big benchmarks). */
  location?: string;
  /** Serve HTTPS with the test CA's server certificate (needed for bearer tokens). */
  tls?: TestCa;
  /** Accept Entra bearer tokens (`--oauth basic`; needs tls). */
  oauth?: boolean;
}

export interface Azurite {
  /** 127.0.0.1:port, as a datastore `endpoint` for path-style URLs. */
  endpoint: string;
  protocol: 'http' | 'https';
  /** ${protocol}://127.0.0.1:port/devstoreaccount1 */
  serviceUrl: string;
  accountName: string;
  accountKey: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the real Azurite blob service (the npm package) on 127.0.0.1 and a free port. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const port = await freePort();
  const args = ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--disableTelemetry', '--skipApiVersionCheck', '--silent'];
  args.push(...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']));
  if (options.tls) args.push('--cert', options.tls.serverCertFile, '--key', options.tls.serverKeyFile);
  if (options.oauth) args.push('--oauth', 'basic');
  const child = spawn(join(root, 'node_modules/.bin/azurite-blob'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AZURITE_ACCOUNTS: '' } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM'); // never leave a half-started emulator behind
      reject(new Error(`Azurite did not start within 20 s: ${output}`));
    }, 20_000);
    const check = () => {
      if (/successfully listen/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}: ${output}`));
    });
  });
  const protocol = options.tls ? 'https' : 'http';
  const endpoint = `127.0.0.1:${port}`;
  return {
    endpoint,
    protocol,
    serviceUrl: `${protocol}://${endpoint}/${AZURITE_ACCOUNT}`,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
