/**
 * Exclusive listening, and the one line a user sees when a port is taken.
 *
 * uWebSockets.js binds with SO_REUSEPORT unless told otherwise, so a second
 * keytally on the same ports "starts fine" and the kernel splits connections
 * between the two. Every listener binds exclusively instead, and a failed bind
 * becomes a ListenError whose message is the whole story: which listener,
 * which address, why, and which flag moves it. The CLI prints that message
 * alone (no stack) and exits non-zero. Any listener (OTLP/HTTP, API, gRPC)
 * uses listenFailure() to build its error.
 */
import { createServer } from 'node:net';
import { splitHostPort } from '../config.js';
import type { ListenSocket, TemplatedApp, Uws } from './uws.js';

/** Exit status of a start-up refused because a listener could not bind. */
export const LISTEN_EXIT_CODE = 2;

export class ListenError extends Error {
  override name = 'ListenError';
  constructor(
    message: string,
    readonly address: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The error for a listener that could not bind `address` (HOST:PORT as the user gave it).
 * `what` names the listener ("OTLP/HTTP"), `flag` the setting that moves it ("--otlp-http");
 * `code` is the errno name when known (EADDRINUSE, EACCES, EADDRNOTAVAIL).
 */
export function listenFailure(what: string, address: string, flag: string, code: string | undefined): ListenError {
  const { port } = splitHostPort(address);
  let why: string;
  switch (code) {
    case 'EADDRINUSE':
      why = `port ${port} is already in use (another keytally, or an orphan of an earlier run?); stop that process or pick another address with ${flag} HOST:PORT`;
      break;
    case 'EACCES':
      why = `permission denied for port ${port} (ports below 1024 need privileges); pick another with ${flag} HOST:PORT`;
      break;
    case 'EADDRNOTAVAIL':
      why = `the host is not an address of this machine; pick another with ${flag} HOST:PORT`;
      break;
    default:
      why = `${code ?? 'bind failed'}; check ${flag} HOST:PORT`;
  }
  return new ListenError(`cannot listen for ${what} on ${address}: ${why}`, address, code);
}

/**
 * Why binding host:port fails, asked of the OS with a plain exclusive node:net bind (uWebSockets.js
 * only says "false"). undefined if the probe binds after all (the port was freed in between).
 */
export function bindErrorCode(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'bind failed'));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** Binds a uWebSockets.js app to `address` exclusively (no SO_REUSEPORT); a failure is a ListenError. */
export async function listenUws(uws: Uws, app: TemplatedApp, address: string, what: string, flag: string): Promise<ListenSocket> {
  const { host, port } = splitHostPort(address);
  // The typings only list listen(port, options, cb); the native binding takes (host, port, options, cb) too.
  const listen = app.listen as unknown as (h: string, p: number, o: number, cb: (s: ListenSocket | false) => void) => void;
  const exclusive = (uws as unknown as Record<string, number | undefined>)['LIBUS_LISTEN_EXCLUSIVE_PORT'] ?? 1;
  const socket = await new Promise<ListenSocket | false>((resolve) => listen.call(app, host, port, exclusive, resolve));
  if (socket) return socket;
  throw listenFailure(what, address, flag, (await bindErrorCode(host, port)) ?? 'EADDRINUSE');
}
