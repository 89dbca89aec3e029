// boundedMemo: the memory behind the path guard's and the Host check's per-handler answers.
import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../src/memo.js';

/** A memo over a function that counts its calls per key. */
function counted(maxEntries: number, maxKeyLength: number) {
  const calls = new Map<string, number>();
  const memo = boundedMemo(maxEntries, maxKeyLength, (key) => {
    calls.set(key, (calls.get(key) ?? 0) + 1);
    return `answer to ${key}`;
  });
  return { memo, calls: (key: string) => calls.get(key) ?? 0 };
}

describe('boundedMemo', () => {
  it('computes a key once, then answers from memory', () => {
    const { memo, calls } = counted(4, 10);
    expect([memo('a'), memo('a'), memo('a')]).toEqual(['answer to a', 'answer to a', 'answer to a']);
    expect(calls('a')).toBe(1);
  });

  it('does not keep keys longer than the limit: they are computed every time', () => {
    const { memo, calls } = counted(4, 3);
    expect(memo('abc')).toBe('answer to abc');
    expect(memo('abcd')).toBe('answer to abcd');
    memo('abc');
    memo('abcd');
    expect([calls('abc'), calls('abcd')]).toEqual([1, 2]);
  });

  it('is emptied when full: a flood of new keys costs a bounded memory, and answers stay right', () => {
    const { memo, calls } = counted(4, 10);
    for (const key of ['a', 'b', 'c', 'd']) memo(key);
    memo('e'); // the fifth: memory emptied, then e kept
    expect(memo('e')).toBe('answer to e');
    expect(calls('e')).toBe(1);
    expect(memo('a')).toBe('answer to a');
    expect(calls('a')).toBe(2);
    memo('b');
    memo('c'); // e, a, b, c: full again, nothing dropped yet
    memo('e');
    expect(calls('e')).toBe(1);
  });
});
