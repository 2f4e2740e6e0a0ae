import { describe, expect, it } from 'vitest';
import { LineScanner } from '../../src/mine/scanner.js';

function masked(line: string): string {
  const sc = new LineScanner(4096);
  sc.scan(line, 0, line.length);
  return sc.masked();
}

describe('masking', () => {
  it.each([
    ['from 10.250.19.102:54106 ok', 'from <IP> ok'],
    ['src: /10.250.19.102:54106', 'src: /<IP>'],
    ['addr fe80::1ff:fe23:4567:890a up', 'addr <IP> up'],
    ['id 3f2504e0-4f89-11d3-9a0c-0305e82c3301 done', 'id <UUID> done'],
    ['ptr 0x7ff1b2e00ba0 and deadbeef12', 'ptr <HEX> and <HEX>'],
    ['iar 00356410 dear 00b35148', 'iar <HEX> dear <HEX>'],
    ['took 10ms of 3.5MB, 64bit', 'took <NUM> of <NUM>, <NUM>'],
    ['blk_-6952295868487656571 part-00298 keyId: -127633188', 'blk_<NUM> part-<NUM> keyId: <NUM>'],
    ['at 2015-10-18 18:01:47,978 and 2024-01-02T03:04:05.678Z', 'at <TS> <TS> and <TS>'],
    ['mail bob.smith@example.com now', 'mail <EMAIL> now'],
    ['GET https://x.example.com/a/b?c=1 200', 'GET <URL> <NUM>'],
    ['mac 5c:50:15:36:bc:03 seen', 'mac <HEX> seen'],
    ['(uid=0) rhost=218.188.2.4', '(uid=<NUM>) rhost=<IP>'],
    ['ipv4 x86 R02-M1-N0 log4j', 'ipv4 x86 R02-M1-N0 log4j'],
    ['version 1.2.3 port 8080', 'version <NUM> port <NUM>'],
    // Issue 15, point 9: a bracketed IPv6 address with a port is one <IP>, like an IPv4 with its port.
    ['connect [2001:db8::2]:443 refused', 'connect <IP> refused'],
    ['peer=[fe80::1]:22, [::1]:8080) and [2001:db8::2] alone', 'peer=<IP>, <IP>) and [<IP>] alone'],
    ['a[1]:2 [x]:3', 'a[<NUM>]:<NUM> [x]:<NUM>'],
    // A UUID whose first group has hex letters only.
    ['vm ebedccff-f1f4-02cc-8eb8-c76340e45c4e up', 'vm <UUID> up'],
  ])('%s', (line, want) => {
    expect(masked(line)).toBe(want);
  });

  it('keeps the whitespace between tokens and drops it around the line', () => {
    expect(masked('  a\t b   7  ')).toBe('a\t b   <NUM>');
  });

  it('reads a template back to the same shape (masks and <*> are tokens of their own kind)', () => {
    const sc = new LineScanner(4096);
    const line = 'user=bob from 10.0.0.1 took 5ms (blk_-12)';
    sc.scan(line, 0, line.length);
    const h = [sc.h1, sc.h2];
    const tpl = sc.masked();
    sc.scan(tpl, 0, tpl.length);
    expect([sc.h1, sc.h2]).toEqual(h);
    expect(sc.masked()).toBe(tpl);
  });

  it('scans pathological long lines in linear time', () => {
    const sc = new LineScanner(1 << 20);
    const bad = ['1.'.repeat(200_000), '1-'.repeat(200_000), 'a@'.repeat(200_000), ':'.repeat(400_000), '0'.repeat(400_000)];
    // Relative to ordinary text of the same length, so a loaded machine slows both alike:
    // a quadratic scan of 400,000 characters would be thousands of times slower, not a few.
    const plain = 'user 42 logged in from 10.0.0.1 '.repeat(12_500);
    const time = (l: string): number => {
      const t0 = performance.now();
      sc.scan(l, 0, l.length);
      return performance.now() - t0;
    };
    time(plain);
    const base = Math.max(time(plain), 1);
    for (const l of bad) expect(time(l)).toBeLessThan(base * 50);
  });
});
