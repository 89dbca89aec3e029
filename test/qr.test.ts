import { describe, expect, it } from 'vitest';
import { renderQrCode, type QrOptions } from '../src/qr.js';
import { decode, modulesOf } from './helpers/qr.js';

const URLS = [
  'http://192.168.1.23:8000/',
  'http://10.0.0.5:8000',
  'https://192.168.100.200:65535/dashboard/settings?tab=2&x=%20',
  'http://[fd12:3456:789a:1::1]:8000/',
  `http://192.168.1.23:8000/${'a'.repeat(200)}`, // a large version still decodes
];

// [how the terminal looks, options, background, the block characters draw dark modules]
const MODES: Array<[string, QrOptions, 'dark' | 'light', boolean]> = [
  ['light text on dark (default)', {}, 'dark', false],
  ['dark text on light (invert)', { invert: true }, 'light', true],
  ['colours set explicitly, on a dark terminal', { colors: true }, 'dark', true],
  ['colours set explicitly, on a light terminal', { colors: true }, 'light', true],
];

describe('renderQrCode: the drawing decodes back to the URL', () => {
  for (const [mode, options, background, drawsDark] of MODES) {
    it.each(URLS)(`${mode}: %s`, (url) => {
      const drawing = renderQrCode(url, options);
      // What a camera sees, below an odd last row included: the terminal's background there.
      const modules = modulesOf(drawing, drawsDark);
      expect(decode(modules, background)).toBe(url);
    });
  }
});

describe('renderQrCode: the drawing', () => {
  const url = 'http://192.168.1.23:8000/';

  it('is compact: two module rows per line, equal widths, only half blocks', () => {
    const lines = renderQrCode(url).split('\n');
    // version 2 is 25 modules, plus a quiet zone of 4 on each side: 33 columns, 17 lines
    expect(lines).toHaveLength(17);
    expect(new Set(lines.map((line) => [...line].length))).toEqual(new Set([33]));
    expect(lines.join('')).toMatch(/^[█▀▄ ]+$/);
  });

  it('draws the quiet zone, so it is light even on a dark terminal', () => {
    const lines = renderQrCode(url).split('\n');
    expect(lines[0]).toBe('█'.repeat(33));
    expect(lines[1]).toBe('█'.repeat(33));
    for (const line of lines.slice(0, -1)) expect(line.slice(0, 4) + line.slice(-4)).toBe('████████');
  });

  it('takes a smaller quiet zone on request', () => {
    expect([...(renderQrCode(url, { quietZone: 1 }).split('\n')[0] ?? '')]).toHaveLength(27);
  });

  it('with colours, sets black on white and resets at the end of each line', () => {
    for (const line of renderQrCode(url, { colors: true }).split('\n')) {
      expect(line.startsWith('\x1b[30;107m')).toBe(true);
      expect(line.endsWith('\x1b[0m')).toBe(true);
    }
  });
});
