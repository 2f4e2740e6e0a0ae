/**
 * Synthetic logs with known templates, for the miner's tests (the Loghub data never
 * enters the repository). Deterministic for a seed.
 *
 * A template is written with slots: {num} {ip} {ipport} {uuid} {hex} {ts} {email} {url}
 * are masked by the miner and show up as their mask; {word} {user} {host} {path} are
 * free variables the miner must learn, and show up as <*>.
 */

export interface GeneratedLogs {
  lines: string[];
  /** Index into `templates` of each line's true template. */
  truth: number[];
  /** Expected template text of each template (masks and <*>, single spaces). */
  templates: string[];
}

export const DEFAULT_TEMPLATES: readonly string[] = [
  'Received block blk_{num} of size {num} from /{ipport}',
  'PacketResponder {num} for block blk_{num} terminating',
  'Accepted password for {user} from {ip} port {num} ssh2',
  'Failed password for invalid user {user} from {ip} port {num} ssh2',
  'session opened for user {user} by (uid={num})',
  'Connection closed by {ip} [preauth]',
  'request {uuid} took {num}ms status={num}',
  'GET {url} returned {num} in {num}ms',
  'cache miss for key {hex} in shard {num}',
  'job {word} started at {ts} on host {host}',
  'job {word} finished at {ts} with exit code {num}',
  'user {email} changed password',
  'Opening file {path} for writing',
  'Disk quota exceeded on volume {path}: used {num} of {num} bytes',
  'Worker pool resized from {num} to {num} threads',
  'heartbeat ok',
  'Starting service {word}',
  'Stopping service {word}',
  'retrying connection to {ipport} attempt {num} of {num} after error: connection refused',
  'GC pause {num}ms young={num} old={num}',
];

const SLOT_MASK: Record<string, string> = {
  num: '<NUM>',
  ip: '<IP>',
  ipport: '<IP>',
  uuid: '<UUID>',
  hex: '<HEX>',
  ts: '<TS>',
  email: '<EMAIL>',
  url: '<URL>',
  word: '<*>',
  user: '<*>',
  host: '<*>',
  path: '<*>',
};

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'si', 'ta', 'vo', 'xe', 'zu', 'pe', 'do', 'fa', 'gi', 'ho', 'ju'];

function word(r: () => number, min = 2, max = 4): string {
  const n = min + Math.floor(r() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
  return s;
}

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
}

function slotValue(slot: string, r: () => number, pools: { users: string[]; words: string[]; hosts: string[] }): string {
  const int = (max: number): number => Math.floor(r() * max);
  const pick = (a: string[]): string => a[int(a.length)]!;
  switch (slot) {
    case 'num':
      return String(int(r() < 0.5 ? 100 : 1_000_000));
    case 'ip':
      return `${1 + int(254)}.${int(256)}.${int(256)}.${1 + int(254)}`;
    case 'ipport':
      return `${1 + int(254)}.${int(256)}.${int(256)}.${1 + int(254)}:${1024 + int(60000)}`;
    case 'uuid':
      return `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`;
    case 'hex':
      return `0x${hex(r, 12)}`;
    case 'ts': {
      const p = (n: number): string => String(n).padStart(2, '0');
      return `2024-${p(1 + int(12))}-${p(1 + int(28))}T${p(int(24))}:${p(int(60))}:${p(int(60))}.${String(int(1000)).padStart(3, '0')}Z`;
    }
    case 'email':
      return `${word(r)}.${word(r)}@${word(r)}.com`;
    case 'url':
      return `https://${word(r)}.example.com/api/${word(r)}/${int(1000)}?q=${word(r)}`;
    case 'user':
      return pick(pools.users);
    case 'word':
      return pick(pools.words);
    case 'host':
      return pick(pools.hosts);
    case 'path':
      return `/var/${word(r)}/${word(r)}/${word(r)}.log`;
    default:
      throw new Error(`unknown slot {${slot}}`);
  }
}

export interface GenerateOptions {
  seed?: number;
  lines?: number;
  templates?: readonly string[];
  /** Distinct values of {user}, {word}, {host}; enough that they are clearly variables. */
  poolSize?: number;
}

export function generateLogs(opts: GenerateOptions = {}): GeneratedLogs {
  const r = rng(opts.seed ?? 1);
  const templates = opts.templates ?? DEFAULT_TEMPLATES;
  const poolSize = opts.poolSize ?? 40;
  const pools = {
    users: Array.from({ length: poolSize }, () => word(r)),
    words: Array.from({ length: poolSize }, () => word(r, 3, 5)),
    hosts: Array.from({ length: poolSize }, () => `${word(r)}-${word(r)}`),
  };
  // Skewed template frequencies, as in real logs.
  const weights = templates.map((_, i) => 1 / (1 + i * 0.5));
  const total = weights.reduce((a, b) => a + b, 0);
  const n = opts.lines ?? 5000;
  const lines: string[] = [];
  const truth: number[] = [];
  for (let k = 0; k < n; k++) {
    let x = r() * total;
    let t = 0;
    while (t < templates.length - 1 && (x -= weights[t]!) > 0) t++;
    lines.push(templates[t]!.replace(/\{(\w+)\}/g, (_, slot: string) => slotValue(slot, r, pools)));
    truth.push(t);
  }
  return { lines, truth, templates: templates.map(expectedTemplate) };
}

/** The template the miner should print: slots become masks or <*>; a number with a unit is one <NUM>. */
export function expectedTemplate(t: string): string {
  return t.replace(/\{num\}[a-z]{1,3}\b/g, '{num}').replace(/\{(\w+)\}/g, (_, slot: string) => SLOT_MASK[slot]!);
}
