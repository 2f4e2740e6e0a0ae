/**
 * A minimal HTTP/1.1 keep-alive client for the load driver (bench/load/http1-driver.ts): it writes requests built
 * once before the run, one at a time per connection, and reads back only what the count needs — each answer's status
 * and where it ends. The load generator shares the machine's two cores with the server it measures, so its CPU is
 * taken from the server's: autocannon (`--client autocannon`) rebuilds every request (headers and a copy of the body)
 * and parses answers with a general parser: ~420 ns of driver CPU per record of the default workload in the bench
 * against ~214 for this client (alternating runs; a bare loop of this client, without the bench's progress messages
 * and histogram, measured 135-155; see the README's round 11).
 *
 * What it reads: the status line, `Content-Length`, `Transfer-Encoding: chunked` and `Connection: close`; the body is
 * skipped. Anything it cannot frame (no status line, a bad length) is an error of the connection, never a guess.
 */
import { connect, type Socket } from 'node:net';

/** One answer read off the wire. */
export interface Answer {
  status: number;
  /** The server said `Connection: close` (or answered HTTP/1.0): the connection ends after this answer. */
  close: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Frames HTTP/1.1 responses out of a byte stream: push() the bytes as they arrive, get the answers completed. A
 * response split anywhere across chunks, several in one chunk, and chunked bodies (with extensions and trailers) are
 * framed, interim (1xx) answers skipped; a malformed one throws.
 */
export class ResponseReader {
  private pending: Buffer = EMPTY;
  /** Of the response being read: its status once its head is in, and what is left of its body. */
  private status = 0;
  private close = false;
  private bodyLeft = 0;
  private chunked = false;
  /** Reading a chunked body: 'size' line next, 'data' (bodyLeft bytes + CRLF), or the 'trailer' section. */
  private chunkState: 'size' | 'data' | 'trailer' = 'size';
  /** A chunked body's last line was read: the response is whole. */
  private complete = false;

  push(chunk: Buffer): Answer[] {
    const out: Answer[] = [];
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    for (;;) {
      if (this.status === 0) {
        const end = buf.indexOf(CRLF2, at);
        if (end < 0) break;
        this.head(buf.toString('latin1', at, end));
        at = end + 4;
        // An interim answer (100 Continue, 103 Early Hints) is not the request's: the final one follows.
        if (this.status < 200) {
          this.status = 0;
          continue;
        }
      }
      if (this.chunked) {
        const next = this.chunkStep(buf, at);
        if (next < 0) break;
        at = next;
        if (this.complete) out.push(this.done());
        continue;
      }
      const take = Math.min(this.bodyLeft, buf.length - at);
      at += take;
      this.bodyLeft -= take;
      if (this.bodyLeft > 0) break;
      out.push(this.done());
    }
    // What is left is the start of the next response (a head not yet whole, or a chunk line): kept, copied.
    this.pending = at >= buf.length ? EMPTY : Buffer.from(buf.subarray(at));
    return out;
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
    this.status = Number(m[2]);
    this.close = m[1] === '0';
    this.bodyLeft = 0;
    this.chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line.slice(0, 60))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new Error(`bad Content-Length ${JSON.stringify(value)}`);
        this.bodyLeft = Number(value);
      } else if (name === 'transfer-encoding') this.chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') this.close = value.split(',').some((v) => v.trim() === 'close');
    }
    // No body for 1xx, 204 and 304 (RFC 9112 §6.3), whatever the headers say.
    if (this.status < 200 || this.status === 204 || this.status === 304) {
      this.bodyLeft = 0;
      this.chunked = false;
    }
    this.chunkState = 'size';
  }

  private done(): Answer {
    const a = { status: this.status, close: this.close };
    this.status = 0;
    this.complete = false;
    return a;
  }

  /** One step through a chunked body from `at`: the new position, or -1 when more bytes are needed. */
  private chunkStep(buf: Buffer, at: number): number {
    if (this.chunkState === 'data') {
      const need = this.bodyLeft + 2;
      if (buf.length - at < need) return -1;
      if (buf[at + this.bodyLeft] !== 13 || buf[at + this.bodyLeft + 1] !== 10) throw new Error('chunk not followed by CRLF');
      this.chunkState = 'size';
      return at + need;
    }
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return -1;
    const line = buf.toString('latin1', at, eol);
    if (this.chunkState === 'trailer') {
      // Trailer fields until an empty line ends the response.
      if (line === '') this.complete = true;
      return eol + 2;
    }
    const size = line.split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(size)) throw new Error(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
    this.bodyLeft = parseInt(size, 16);
    this.chunkState = this.bodyLeft === 0 ? 'trailer' : 'data';
    return eol + 2;
  }
}

/** `POST path` with the given headers and body, as one buffer written per request. */
export function buildRequest(host: string, path: string, headers: Record<string, string>, body: Buffer): Buffer {
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * One connection with at most one request in flight. `answer` gets each status (with the request's start time from
 * performance.now()); `broken` is called once when the connection fails or closes with a request in flight (timed out:
 * the request's answer did not come within `timeoutMs`), or when it closes idle; the caller opens a new one if it wants.
 */
export class Http1Connection {
  private readonly socket: Socket;
  private readonly reader = new ResponseReader();
  private sentAt = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  /** `broken` was called (it is called once). */
  private reported = false;

  constructor(
    host: string,
    port: number,
    private readonly timeoutMs: number,
    private readonly answer: (a: Answer, sentAt: number) => void,
    private readonly broken: (why: 'error' | 'timeout' | 'closed', inFlight: boolean) => void,
    ready: () => void,
  ) {
    this.socket = connect(port, host, ready);
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => this.fail('error'));
    this.socket.on('close', () => this.fail('closed'));
  }

  get busy(): boolean {
    return this.inFlight;
  }

  send(request: Buffer): void {
    if (this.ended) throw new Error('send on a closed connection');
    if (this.inFlight) throw new Error('one request at a time');
    this.inFlight = true;
    this.sentAt = performance.now();
    this.timer = setTimeout(() => this.fail('timeout'), this.timeoutMs);
    this.socket.write(request);
  }

  /** Closes the connection (after the answer in flight, if the caller waits for it). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.socket.end();
  }

  private onData(d: Buffer): void {
    let answers: Answer[];
    try {
      answers = this.reader.push(d);
    } catch {
      this.fail('error');
      return;
    }
    for (const a of answers) {
      if (!this.inFlight) {
        // An answer to nothing: the stream is out of step.
        this.fail('error');
        return;
      }
      clearTimeout(this.timer);
      this.inFlight = false;
      const closing = a.close;
      if (closing) this.ended = true;
      this.answer(a, this.sentAt);
      if (closing) {
        this.socket.end();
        this.reportBroken('closed', false);
        return;
      }
    }
  }

  private reportBroken(why: 'error' | 'timeout' | 'closed', inFlight: boolean): void {
    if (this.reported) return;
    this.reported = true;
    this.broken(why, inFlight);
  }

  private fail(why: 'error' | 'timeout' | 'closed'): void {
    clearTimeout(this.timer);
    const inFlight = this.inFlight;
    this.inFlight = false;
    const wasEnded = this.ended;
    this.ended = true;
    this.socket.destroy();
    // A connection we closed ourselves, idle, is not broken.
    if (wasEnded && !inFlight && why === 'closed') {
      this.reported = true;
      return;
    }
    this.reportBroken(why, inFlight);
  }
}
