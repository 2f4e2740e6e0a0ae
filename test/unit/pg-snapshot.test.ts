/**
 * Which snapshots may use what another read (src/store/postgres/changes.ts, sees): totals kept from a snapshot are
 * used only by one that sees every transaction it saw.
 */
import { describe, expect, it } from 'vitest';
import { parseSnap, sees } from '../../src/store/postgres/changes.js';

describe('PostgreSQL snapshots: sees', () => {
  it('a later snapshot sees what an earlier one saw; an earlier one, or one still missing a transaction, does not', () => {
    const s1 = parseSnap('100:105:100,102');
    expect(s1.xmax).toBe(105n);
    expect([...s1.xip]).toEqual([100n, 102n]);
    expect(sees(s1, s1)).toBe(true);
    // 100 and 102 committed since, 105 and 106 began: sees all s1 saw.
    expect(sees(parseSnap('105:107:105,106'), s1)).toBe(true);
    // 102 still running: it was running for s1 too.
    expect(sees(parseSnap('102:107:102'), s1)).toBe(true);
    // 101 was committed for s1 but is not seen here: an older snapshot.
    expect(sees(parseSnap('100:104:100,101'), s1)).toBe(false);
    expect(sees(parseSnap('101:103:101'), s1)).toBe(false);
    // An empty in-progress list.
    expect(sees(parseSnap('110:110:'), s1)).toBe(true);
    expect(sees(s1, parseSnap('110:110:'))).toBe(false);
  });
});
