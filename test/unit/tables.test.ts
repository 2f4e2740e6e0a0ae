import { describe, expect, it } from 'vitest';
import { SortedKeys } from '../../src/util/sorted-keys.js';
import { Table2, Table3 } from '../../src/extract/tables.js';

const attrs = (...keys: string[]) => keys.map((key) => ({ key, value: '' }));

describe('SortedKeys', () => {
  it('sorts and de-duplicates', () => {
    expect(new SortedKeys().of(attrs('b', 'a', 'b', 'c'))).toEqual(['a', 'b', 'c']);
    expect(new SortedKeys().of([])).toEqual([]);
  });

  it('returns the same array for a key list it has seen, among several shapes', () => {
    const s = new SortedKeys();
    const x = s.of(attrs('z', 'y'));
    const y = s.of(attrs('a', 'c', 'b'));
    expect(s.of(attrs('z', 'y'))).toBe(x);
    expect(s.of(attrs('a', 'c', 'b'))).toBe(y);
    // Same keys in another order is another raw list, but the same answer.
    expect(s.of(attrs('y', 'z'))).toEqual(['y', 'z']);
  });

  it('stays right after its cache wraps', () => {
    const s = new SortedKeys();
    for (let i = 0; i < 50; i++) expect(s.of(attrs(`k${i}`, 'a'))).toEqual(['a', `k${i}`]);
    expect(s.of(attrs('k3', 'a'))).toEqual(['a', 'k3']);
  });
});

describe('Table2/Table3', () => {
  it('nest maps, count what was added and iterate every value', () => {
    const t = new Table3<number>();
    t.inner('s1', 'log').set('a', 1);
    t.added();
    t.inner('s1', 'log').set('b', 2);
    t.added();
    t.inner('s2', 'span').set('a', 3);
    t.added();
    expect(t.size).toBe(3);
    expect([...t.values()].sort()).toEqual([1, 2, 3]);
    const u = new Table2<string>();
    expect(u.inner('x')).toBe(u.inner('x'));
  });
});
