import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCa } from './ca.js';

export interface TestRegistry {
  /** host:port */
  host: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd users; the distribution registry only accepts htpasswd over TLS. */
  users?: Record<string, string>;
  tls?: TestCa;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Waits until a child server listens on a port, failing fast when it exits. */
export async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.spawnfile} did not listen on ${port}: ${log()}`);
}

/** A running docker-registry: what it printed so far, and how to stop it and remove its folder. */
export interface RegistryProcess {
  output(): string;
  stop(): Promise<void>;
}

/** The config every test registry starts from: storage in `dir`, deletes on, 127.0.0.1:port. */
export function registryConfig(dir: string, port: number, logLevel: 'warn' | 'info'): string[] {
  return [
    'version: 0.1',
    'log:',
    `  level: ${logLevel}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
}

/** Runs the real CNCF distribution registry (Debian's docker-registry) on a config; resolves once it listens. */
export async function serveRegistry(dir: string, port: number, config: readonly string[]): Promise<RegistryProcess> {
  writeFileSync(join(dir, 'config.yml'), `${config.join('\n')}\n`);
  // Its log goes to a file, not a pipe: a caller blocked in a synchronous spawn (skopeo, buildah)
  // does not read pipes, and a full pipe stops the registry answering at all.
  const logFile = join(dir, 'registry.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const output = () => {
    try {
      const text = readFileSync(logFile, 'utf8');
      return text.length > 200_000 ? text.slice(-200_000) : text;
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { output, stop };
}

/** Starts a test registry on 127.0.0.1: plain, or with TLS, or with htpasswd users over TLS. */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-registry-test-'));
  const port = await freePort();
  const lines = registryConfig(dir, port, 'warn');
  if (options.tls) {
    lines.push('  tls:', `    certificate: ${options.tls.serverCertFile}`, `    key: ${options.tls.serverKeyFile}`);
  }
  if (options.users) {
    const htpasswd = Object.entries(options.users)
      .map(([user, password]) => execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim())
      .join('\n');
    writeFileSync(join(dir, 'htpasswd'), `${htpasswd}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: mlops-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  const registry = await serveRegistry(dir, port, lines);
  return { host: `127.0.0.1:${port}`, stop: registry.stop };
}
