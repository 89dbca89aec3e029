import { describe, expect, it } from 'vitest';
import { editDistance, suggestFlag } from '../../src/flag-suggestion.js';

const FLAGS = ['--port', '--bind', '--host', '--quiet', '--cache', '--watch', '--poll', '--dotfiles', '--allowed-host', '--no-listing', '--immutable', '--directory'];

describe('suggestFlag', () => {
  // [typed, suggestion]: a slip of the keyboard gets one; a different word gets none.
  it.each<[string, string | undefined]>([
    ['--por', '--port'],
    ['--prot', '--port'],
    ['--cahce', '--cache'],
    ['--watc', '--watch'],
    ['--allowed-hosts', '--allowed-host'],
    ['--no-listings', '--no-listing'],
    ['--imutable', '--immutable'],
    ['--dotfile', '--dotfiles'],
    ['--directroy', '--directory'],
    ['--PORT', '--port'],
    ['--cors', undefined],
    ['--spa', undefined],
    ['--auth', undefined],
    ['--open', undefined],
    ['--single', undefined],
    ['--verbose', undefined],
    ['--', undefined],
  ])('%s → %s', (typed, suggestion) => {
    expect(suggestFlag(typed, FLAGS)).toBe(suggestion);
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['port', 'port', 0],
    ['port', 'prot', 1],
    ['port', 'por', 1],
    ['cors', 'port', 2],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});
