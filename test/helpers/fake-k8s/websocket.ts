import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;
/** The most a fake accepts in one message; the real server has no such limit, tests stay far below. */
const MAX_MESSAGE = 64 * 1024 * 1024;

/** Why an upgrade request is not a valid RFC 6455 opening handshake, or undefined. */
export function handshakeProblem(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return `the opening handshake must be a GET, not ${request.method}`;
  if ((request.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'Upgrade: websocket is missing';
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(request.headers.connection ?? '')) return 'Connection: Upgrade is missing';
  if (request.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  const key = request.headers['sec-websocket-key'] ?? '';
  if (Buffer.from(key, 'base64').length !== 16) return 'Sec-WebSocket-Key is not 16 bytes in base64';
  return undefined;
}

/** The subprotocols the client offered, in its order of preference. */
export function offeredProtocols(request: IncomingMessage): string[] {
  return (request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean);
}

/**
 * Completes the handshake on an upgraded socket and returns the server side of the connection.
 * A small RFC 6455 implementation of its own, so the client under test talks to something that
 * is not the same library it uses, and every framing rule it breaks is reported.
 */
export function acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer, protocol: string | undefined): WebSocketConnection {
  const accept = createHash('sha1')
    .update(`${request.headers['sec-websocket-key']}${ACCEPT_GUID}`)
    .digest('base64');
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return new WebSocketConnection(socket, head);
}

export interface WebSocketConnection {
  on(event: 'message', listener: (data: Buffer, binary: boolean) => void): this;
  /** The client broke a rule of RFC 6455. */
  on(event: 'violation', listener: (problem: string) => void): this;
  /** The TCP connection is gone; code is the close code received, if any. */
  on(event: 'close', listener: (code: number | undefined) => void): this;
  on(event: 'drain', listener: () => void): this;
}

export class WebSocketConnection extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = -1;
  private closeSent = false;
  private closeCode: number | undefined;
  closed = false;

  constructor(private readonly socket: Duplex, head: Buffer) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.emit('close', this.closeCode);
    });
    if (head.length) queueMicrotask(() => this.receive(head));
  }

  /** Sends one message; false when the socket's buffer is full (wait for 'drain'). */
  send(data: Buffer | string): boolean {
    if (this.closeSent || this.closed) return true;
    const binary = typeof data !== 'string';
    return this.frame(binary ? OPCODE.binary : OPCODE.text, binary ? data : Buffer.from(data, 'utf8'));
  }

  /** Starts the closing handshake; the TCP connection ends when the client answers (or after 2 s). */
  close(code = 1000, reason = ''): void {
    if (this.closeSent || this.closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.frame(OPCODE.close, payload);
    this.closeSent = true;
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  terminate(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private frame(opcode: number, payload: Buffer): boolean {
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    if (length < 126) header[1] = length;
    else if (length < 65536) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    return this.socket.write(Buffer.concat([header, payload]));
  }

  private violation(problem: string, code = 1002): void {
    this.emit('violation', problem);
    this.close(code, problem.slice(0, 100));
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (!this.closed) {
      const frame = this.parse();
      if (!frame) return;
      this.handle(frame.fin, frame.opcode, frame.payload);
    }
  }

  private parse(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const buffer = this.buffer;
    if (buffer.length < 2) return undefined;
    const fin = (buffer[0]! & 0x80) !== 0;
    const rsv = buffer[0]! & 0x70;
    const opcode = buffer[0]! & 0x0f;
    const masked = (buffer[1]! & 0x80) !== 0;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return undefined;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return undefined;
      const big = buffer.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE)) {
        this.violation(`a frame of ${big} bytes`, 1009);
        return undefined;
      }
      length = Number(big);
      offset = 10;
    }
    if (rsv) {
      this.violation('a frame with RSV bits set (no extension was negotiated)');
      return undefined;
    }
    if (!masked) {
      this.violation('an unmasked frame from the client (RFC 6455 5.1)');
      return undefined;
    }
    if (buffer.length < offset + 4 + length) return undefined;
    const mask = buffer.subarray(offset, offset + 4);
    const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    this.buffer = buffer.subarray(offset + 4 + length);
    return { fin, opcode, payload };
  }

  private handle(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 8) {
      if (!fin || payload.length > 125) return this.violation('a fragmented or oversized control frame');
      if (opcode === OPCODE.ping) this.frame(OPCODE.pong, payload);
      else if (opcode === OPCODE.close) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (payload.length === 1) return this.violation('a close frame with a 1-byte payload');
        if (!this.closeSent) {
          this.frame(OPCODE.close, payload.subarray(0, 2));
          this.closeSent = true;
        }
        this.socket.end();
      } else if (opcode !== OPCODE.pong) this.violation(`a frame with the reserved opcode ${opcode}`);
      return;
    }
    if (opcode === OPCODE.continuation) {
      if (this.fragmentOpcode < 0) return this.violation('a continuation frame with no message to continue');
      this.fragments.push(payload);
    } else if (opcode === OPCODE.text || opcode === OPCODE.binary) {
      if (this.fragmentOpcode >= 0) return this.violation('a new message before the fragmented one ended');
      this.fragmentOpcode = opcode;
      this.fragments = [payload];
    } else return this.violation(`a frame with the reserved opcode ${opcode}`);
    if (!fin) return;
    const message = Buffer.concat(this.fragments);
    const binary = this.fragmentOpcode === OPCODE.binary;
    this.fragments = [];
    this.fragmentOpcode = -1;
    this.emit('message', message, binary);
  }
}
