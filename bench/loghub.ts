/** Reads a Loghub `*_structured.csv` (quoted fields, CRLF) into its Content and EventId columns. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface LoghubSet {
  name: string;
  content: string[];
  eventId: string[];
}

/** RFC 4180 rows: fields may be quoted, with "" for a quote and newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted CSV field');
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    if (text[i] === ',') i++;
    else {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      rows.push(row);
      row = [];
    }
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

export function loadSet(dir: string, name: string): LoghubSet {
  const file = readdirSync(dir).find((f) => f.endsWith('_structured.csv'));
  if (file === undefined) throw new Error(`no *_structured.csv in ${dir}`);
  const rows = parseCsv(readFileSync(join(dir, file), 'utf8'));
  const header = rows[0]!;
  const ci = header.indexOf('Content');
  const ei = header.indexOf('EventId');
  const body = rows.slice(1).filter((r) => r.length === header.length);
  return { name, content: body.map((r) => r[ci]!), eventId: body.map((r) => r[ei]!) };
}

export function loadAll(root: string): LoghubSet[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => loadSet(join(root, name), name));
}
