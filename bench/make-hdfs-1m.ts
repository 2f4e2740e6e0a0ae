/** Writes the Content column of a Loghub structured CSV repeated to N lines (default 1,000,000): input for the `keytally mine` speed check. */
import { writeFileSync } from 'node:fs';
import { loadSet } from './loghub.js';

const [dir = '../shared/loghub2k/HDFS', out = '/tmp/hdfs-1m.log', n = '1000000'] = process.argv.slice(2);
const { content } = loadSet(dir, 'set');
const lines: string[] = [];
for (let i = 0; i < Number(n); i++) lines.push(content[i % content.length]!);
writeFileSync(out, lines.join('\n') + '\n');
console.log(`${lines.length} lines -> ${out}`);
