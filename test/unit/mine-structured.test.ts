import { describe, expect, it } from 'vitest';
import { bodyMessage, parseLogfmt } from '../../src/mine/structured.js';
import { TemplateMiner } from '../../src/mine/miner.js';

describe('bodyMessage (point 6)', () => {
  it('plain strings are the message, with no shape', () => {
    expect(bodyMessage('disk full on /dev/sda1')).toEqual({ message: 'disk full on /dev/sda1', keys: undefined });
    expect(bodyMessage(undefined)).toEqual({ message: '', keys: undefined });
  });

  it('kvlist bodies: message field and sorted keys', () => {
    expect(bodyMessage([{ key: 'level', value: 'info' }, { key: 'msg', value: 'user 42 logged in' }, { key: 'at', value: 'x' }])).toEqual({ message: 'user 42 logged in', keys: ['at', 'level', 'msg'] });
  });

  it('prefers message over msg over log', () => {
    expect(bodyMessage([{ key: 'log', value: 'a' }, { key: 'message', value: 'b' }, { key: 'msg', value: 'c' }]).message).toBe('b');
  });

  it('JSON objects in strings', () => {
    expect(bodyMessage('{"ts":1,"message":"hello 5","user":"x"}')).toEqual({ message: 'hello 5', keys: ['message', 'ts', 'user'] });
    expect(bodyMessage('{not json')).toEqual({ message: '{not json', keys: undefined });
    expect(bodyMessage('[1,2]').keys).toBeUndefined();
  });

  it('logfmt lines, quoted values included', () => {
    expect(bodyMessage('level=info msg="request done" status=200 dur=5ms')).toEqual({ message: 'request done', keys: ['dur', 'level', 'msg', 'status'] });
    expect(parseLogfmt('a=1 b="x \\" y"')).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: 'x " y' }]);
    expect(bodyMessage('user=bob logged in').keys).toBeUndefined(); // not all tokens are key=value
  });

  it('a structured body without a message field is mined as its sorted key set', () => {
    const a = bodyMessage('{"b":1,"a":2,"c":{"x":1}}');
    expect(a).toEqual({ message: '{a, b, c}', keys: ['a', 'b', 'c'] });
    const m = new TemplateMiner();
    m.add(a.message);
    expect(m.add(bodyMessage([{ key: 'c', value: '9' }, { key: 'a', value: '8' }, { key: 'b', value: '7' }]).message).template()).toBe('{a, b, c}');
  });

  it('answers from its memos what it would work out afresh: lists that join alike, duplicates, past the memo size', () => {
    const reference = (pairs: Array<{ key: string; value: string }>) => [...new Set(pairs.map((p) => p.key))].sort();
    const lists: Array<Array<{ key: string; value: string }>> = [
      [{ key: 'a\u0000b', value: '1' }],
      [{ key: 'a', value: '1' }, { key: 'b', value: '2' }],
      [{ key: '1:a', value: '1' }],
      [{ key: '1', value: '1' }, { key: 'a', value: '2' }],
      [{ key: 'b', value: '1' }, { key: 'b', value: '2' }, { key: 'a', value: '3' }],
      [{ key: 'MSG', value: 'upper' }, { key: 'x', value: '1' }],
    ];
    // Twice each, then 10,000 more lists (the memos start over), then the first ones again.
    for (const round of [0, 1]) for (const l of lists) expect(bodyMessage(l).keys, `round ${round}`).toEqual(reference(l));
    for (let i = 0; i < 10_000; i++) {
      const l = [{ key: `k${i}`, value: 'v' }, { key: 'msg', value: `m${i}` }];
      const got = bodyMessage(l);
      expect(got.keys).toEqual(reference(l));
      expect(got.message).toBe(`m${i}`);
    }
    for (const l of lists) expect(bodyMessage(l).keys).toEqual(reference(l));
    expect(bodyMessage(lists[5]!).message).toBe('upper');
    expect(bodyMessage(lists[4]!).message).toBe('{a, b}');
  });
});
