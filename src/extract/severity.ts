/** The severity a log record is grouped under: its severity_text, or else the name of its severity_number's range. */
const BY_NUMBER = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const MAX_SEVERITY_LENGTH = 32;

export function severityOf(text: string, num: number): string {
  if (text !== '') return text.length > MAX_SEVERITY_LENGTH ? text.slice(0, MAX_SEVERITY_LENGTH) : text;
  if (num < 1 || num > 24) return BY_NUMBER[0]!;
  // SeverityNumber ranges of the log data model: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
  return BY_NUMBER[1 + ((num - 1) >> 2)]!;
}
