import { describe, expect, it } from 'vitest';
import { OVERFLOW_ID, TemplateMiner } from '../../src/mine/miner.js';
import { generateLogs } from '../helpers/log-generator.js';

const templatesOf = (m: TemplateMiner): string[] => m.clusters().map((c) => `${c.id} ${c.template()}`).sort();

describe('stability (point 4)', () => {
  it('mining the same input 100 times gives the same templates as once', () => {
    const g = generateLogs({ seed: 11, lines: 2000 });
    const m = new TemplateMiner();
    for (const l of g.lines) m.add(l);
    const once = templatesOf(m);
    for (let k = 1; k < 100; k++) for (const l of g.lines) m.add(l);
    expect(templatesOf(m)).toEqual(once);
    expect(m.clusters().reduce((a, c) => a + c.count, 0)).toBe(200_000);
  });

  it('a template made only of variables still matches its lines', () => {
    const m = new TemplateMiner();
    const a = m.add('alpha beta gamma');
    m.add('delta epsilon zeta');
    for (let i = 0; i < 10; i++) m.add(`w${i}x q${i}y z${i}z`);
    const before = m.clusters().length;
    for (let i = 0; i < 10; i++) m.add(`w${i}x q${i}y z${i}z`);
    expect(m.clusters().length).toBe(before);
    expect(a.id).toBeGreaterThan(0);
  });
});

describe('drain()', () => {
  it('reports pending counts, first/last seen and a masked example, then resets', () => {
    const m = new TemplateMiner();
    m.add('connect from 10.0.0.1 port 22', 1000);
    m.add('connect from 10.0.0.2 port 23', 3000);
    m.add('connect from 10.0.0.3 port 24', 2000);
    const d = m.drain();
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ template: 'connect from <IP> port <NUM>', count: 3, firstSeen: 1000, lastSeen: 3000, example: 'connect from <IP> port <NUM>' });
    expect(m.drain()).toEqual([]);
    m.add('connect from 10.0.0.9 port 99', 5000);
    expect(m.drain()).toMatchObject([{ count: 1, firstSeen: 5000, lastSeen: 5000 }]);
    expect(m.clusters()[0]!.count).toBe(4);
  });

  it('still reports evicted clusters with their pending counts', () => {
    const m = new TemplateMiner({ maxClusters: 2 });
    for (let i = 0; i < 10; i++) m.add(`first kind of line number ${i}`);
    for (let i = 0; i < 10; i++) m.add(`second sort of message id ${i}`);
    for (let i = 0; i < 10; i++) m.add(`third family here with ${i}`);
    const d = m.drain();
    expect(d.reduce((a, x) => a + x.count, 0)).toBe(30);
    expect(m.stats.evictions).toBe(1);
    expect(d.map((x) => x.template).sort()).toEqual(['first kind of line number <NUM>', 'second sort of message id <NUM>', 'third family here with <NUM>']);
  });
});

describe('bounds (point 7)', () => {
  it('keeps at most maxClusters clusters, evicting the least recently used', () => {
    const m = new TemplateMiner({ maxClusters: 10 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar'];
    // Each template is used many times, far apart enough that LRU eviction is allowed.
    for (let round = 0; round < 3; round++) for (const w of words) for (let i = 0; i < 20; i++) m.add(`${w} event ${w} happened ${i}`);
    expect(m.clusters().filter((c) => c.id !== OVERFLOW_ID).length).toBeLessThanOrEqual(10);
    expect(m.stats.evictions).toBeGreaterThan(0);
    expect(m.stats.clusters).toBeLessThanOrEqual(10);
  });

  it('sends lines to the overflow template instead of thrashing when every cluster is in use', () => {
    const m = new TemplateMiner({ maxClusters: 5 });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
    for (let i = 0; i < 40; i++) m.add(`${words[i % 8]} only ${words[i % 8]} here`);
    expect(m.stats.overflow).toBeGreaterThan(0);
    const ov = m.clusters().find((c) => c.id === OVERFLOW_ID);
    expect(ov?.template()).toBe('<overflow>');
    expect(m.clusters().reduce((a, c) => a + c.count, 0)).toBe(40);
  });

  it('mines only maxLineLength characters and counts truncations', () => {
    const m = new TemplateMiner({ maxLineLength: 64 });
    const long = `start ${'x'.repeat(10)} ${'y '.repeat(5000)}`;
    const c = m.add(long);
    expect(c.template().length).toBeLessThanOrEqual(64);
    expect(m.stats.truncated).toBe(1);
  });

  it('restore keeps ids; new ids continue after the largest', () => {
    const m = new TemplateMiner();
    m.restore(41, 'user <*> logged in from <IP>', 7);
    m.restore(7, 'disk <NUM> full', 2);
    expect(m.add('user bob logged in from 1.2.3.4').id).toBe(41);
    expect(m.add('completely different words here').id).toBe(42);
    expect(m.clusters().find((c) => c.id === 41)!.count).toBe(8);
  });

  it('keeps the whitespace of the first line between tokens', () => {
    const m = new TemplateMiner();
    m.add('a:  b\tc 1');
    expect(m.add('a:  b\tc 2').template()).toBe('a:  b\tc <NUM>');
  });
});

describe('templates', () => {
  it('learns key=value variables as key=<*> and merges clusters that differ in one position only', () => {
    const m = new TemplateMiner();
    for (const u of ['ann', 'bob', 'cyd', 'dan', 'eve', 'fay']) m.add(`login user=${u}`);
    expect(m.clusters().map((c) => c.template())).toEqual(['login user=<*>']);
  });

  it('keeps two-valued words apart (on/off)', () => {
    const m = new TemplateMiner();
    for (let i = 0; i < 5; i++) m.add('scanner Powered On');
    for (let i = 0; i < 5; i++) m.add('scanner Powered Off');
    expect(m.clusters().map((c) => c.template()).sort()).toEqual(['scanner Powered Off', 'scanner Powered On']);
  });
});
