import { randomBytes } from 'node:crypto';
import tls from 'node:tls';

/** A frame as the client received it: opcode (1 text, 2 binary, 8 close) and payload. */
export interface Frame {
  opcode: number;
  payload: Buffer;
}

/**
 * A bare WebSocket client for tests of the fake itself: it writes frames byte by byte (masked or,
 * to provoke a violation, not) and hands back every frame it receives, so the protocol is seen
 * as it is on the wire rather than through a library.
 */
export class RawWebSocket {
  readonly frames: Frame[] = [];
  /** Rules of RFC 6455 the server broke. */
  readonly problems: string[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: tls.TLSSocket, rest: Buffer) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
    if (rest.length) this.receive(rest);
  }

  /**
   * Opens a WebSocket on an https URL. Resolves with the socket on 101, or with the status and
   * body of any other answer.
   */
  static async open(
    url: string,
    options: { ca: string; token?: string; protocols?: string[] },
  ): Promise<{ status: number; protocol?: string; body: string; ws?: RawWebSocket }> {
    const target = new URL(url);
    const socket = tls.connect({ host: target.hostname, port: Number(target.port), ca: options.ca });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const headers = [
      `GET ${target.pathname}${target.search} HTTP/1.1`,
      `Host: ${target.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      ...(options.protocols?.length ? [`Sec-WebSocket-Protocol: ${options.protocols.join(', ')}`] : []),
      ...(options.token ? [`Authorization: Bearer ${options.token}`] : []),
    ];
    socket.write(`${headers.join('\r\n')}\r\n\r\n`);
    let received = Buffer.alloc(0);
    for (;;) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        const onData = (data: Buffer) => {
          socket.off('close', onClose);
          resolve(data);
        };
        const onClose = () => {
          socket.off('data', onData);
          resolve(undefined);
        };
        socket.once('data', onData).once('close', onClose);
      });
      if (chunk) received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0 && chunk) continue;
      const head = received.subarray(0, end < 0 ? received.length : end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const protocol = /^sec-websocket-protocol:\s*(.+)$/im.exec(head)?.[1]?.trim();
      const rest = end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
      if (status !== 101) {
        const length = Number(/^content-length:\s*(\d+)$/im.exec(head)?.[1] ?? rest.length);
        while (received.length - end - 4 < length && !socket.closed) {
          const more = await new Promise<Buffer | undefined>((resolve) => socket.once('data', resolve).once('close', () => resolve(undefined)));
          if (!more) break;
          received = Buffer.concat([received, more]);
        }
        socket.destroy();
        return { status, protocol, body: received.subarray(end + 4).toString('utf8') };
      }
      socket.pause();
      const ws = new RawWebSocket(socket, rest);
      socket.resume();
      return { status, protocol, body: '', ws };
    }
  }

  /** Sends one frame; `mask: false` breaks RFC 6455 on purpose. */
  send(payload: Buffer | string, options: { opcode?: number; mask?: boolean } = {}): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const opcode = options.opcode ?? (typeof payload === 'string' ? 1 : 2);
    const mask = options.mask ?? true;
    const length = data.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    const lengthByte = length < 126 ? length : length < 65536 ? 126 : 127;
    header[1] = (mask ? 0x80 : 0) | lengthByte;
    if (lengthByte === 126) header.writeUInt16BE(length, 2);
    if (lengthByte === 127) header.writeBigUInt64BE(BigInt(length), 2);
    if (!mask) {
      this.socket.write(Buffer.concat([header, data]));
      return;
    }
    const key = randomBytes(4);
    const masked = Buffer.from(data);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
    this.socket.write(Buffer.concat([header, key, masked]));
  }

  close(code = 1000): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code, 0);
    this.send(payload, { opcode: 8 });
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Waits until a condition on the frames received so far holds, or the connection closed. */
  async until(condition: (frames: Frame[]) => boolean, ms = 5_000): Promise<Frame[]> {
    const deadline = Date.now() + ms;
    while (!condition(this.frames)) {
      if (this.closed) throw new Error(`connection closed; frames: ${JSON.stringify(this.frames.map((f) => [f.opcode, f.payload.toString('hex')]))}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for frames');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Waits for the TCP connection to end. */
  async ended(ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the connection did not end');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) break;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer[1]! & 0x80) this.problems.push('the server masked a frame (RFC 6455 5.1 forbids it)');
      if (this.buffer.length < offset + length) break;
      this.frames.push({ opcode: this.buffer[0]! & 0x0f, payload: Buffer.from(this.buffer.subarray(offset, offset + length)) });
      this.buffer = this.buffer.subarray(offset + length);
    }
    this.wake();
  }
}
