/**
 * The severity a log record is grouped under: the OpenTelemetry severity (TRACE, DEBUG, INFO, WARN,
 * ERROR, FATAL) from its severity_number when that is set, else from its severity_text when the text
 * is a common spelling of one (any case: `warning`, `Warn`, `err`, `crit`, ...), else the text as it is.
 * One sender's "warning" and another's "WARN" are then one severity.
 */
const BY_NUMBER = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const MAX_SEVERITY_LENGTH = 32;

/** Lower-cased spellings → the severity. Syslog's and common loggers' names map as the log data model's tables do. */
const SPELLINGS: Record<string, string> = {
  trace: 'TRACE',
  finest: 'TRACE',
  debug: 'DEBUG',
  dbg: 'DEBUG',
  fine: 'DEBUG',
  finer: 'DEBUG',
  info: 'INFO',
  inf: 'INFO',
  information: 'INFO',
  informational: 'INFO',
  notice: 'INFO',
  warn: 'WARN',
  warning: 'WARN',
  wrn: 'WARN',
  error: 'ERROR',
  err: 'ERROR',
  severe: 'ERROR',
  fatal: 'FATAL',
  crit: 'FATAL',
  critical: 'FATAL',
  alert: 'FATAL',
  emerg: 'FATAL',
  emergency: 'FATAL',
  panic: 'FATAL',
};

/** The severity a text names (a common spelling, any case, surrounding blanks ignored), or undefined. */
export function knownSeverity(text: string): string | undefined {
  const t = text.trim();
  // Spellings are short: a long text is never one (and is not lower-cased for nothing).
  return t.length > 13 ? undefined : SPELLINGS[t.toLowerCase()];
}

export function severityOf(text: string, num: number): string {
  // SeverityNumber ranges of the log data model: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
  if (num >= 1 && num <= 24) return BY_NUMBER[1 + ((num - 1) >> 2)]!;
  if (text === '') return BY_NUMBER[0]!;
  const known = knownSeverity(text);
  if (known !== undefined) return known;
  return text.length > MAX_SEVERITY_LENGTH ? text.slice(0, MAX_SEVERITY_LENGTH) : text;
}
