/** The one logger: pino, to stderr, level from config. */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'keytally' } }, pino.destination(2));
}
