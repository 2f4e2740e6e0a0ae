import { ConfigError } from '../config.js';

/**
 * A listener that cannot bind its address. A ConfigError, so the command
 * line prints its one line and exits 2 with no stack trace: the fix is a
 * setting (another port) or stopping whatever holds the port.
 */
export class ListenError extends ConfigError {
  override name = 'ListenError';

  constructor(what: string, flag: string, address: string, cause: string) {
    const inUse = /EADDRINUSE|address already in use/i.test(cause);
    super(
      inUse
        ? `cannot listen for ${what} on ${address} (--${flag}): the port is already in use; stop the process that holds it or choose another port with --${flag}`
        : `cannot listen for ${what} on ${address} (--${flag}): ${cause}`,
    );
  }
}
