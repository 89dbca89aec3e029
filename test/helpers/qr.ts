/** Reading a QR code drawn in a terminal back, as a phone's camera would. */
import jsqr from 'jsqr';

// jsqr is CommonJS built by webpack: its function is `default` or the module itself, by loader.
type Decode = typeof jsqr.default;
const jsQR: Decode = (jsqr as unknown as { default?: Decode }).default ?? (jsqr as unknown as Decode);

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Read the drawing back into modules, as a camera would see it: true is dark. `drawsDark`
 * says what the block characters are (the text colour): dark modules, or light ones.
 */
export function modulesOf(drawing: string, drawsDark: boolean): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of drawing.split('\n')) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const c of line.replace(ANSI, '')) {
      const upper = c === '█' || c === '▀';
      const lower = c === '█' || c === '▄';
      if (!'█▀▄ '.includes(c)) throw new Error(`unexpected character ${JSON.stringify(c)}`);
      top.push(upper === drawsDark);
      bottom.push(lower === drawsDark);
    }
    rows.push(top, bottom);
  }
  return rows;
}

/** Decode modules with jsQR from an RGBA image (4 px per module, on the terminal's background). */
export function decode(modules: boolean[][], background: 'dark' | 'light'): string | undefined {
  const scale = 4;
  const margin = 8; // terminal background around the drawing
  const height = modules.length * scale + 2 * margin;
  const width = (modules[0]?.length ?? 0) * scale + 2 * margin;
  const pixels = new Uint8ClampedArray(width * height * 4).fill(background === 'dark' ? 0 : 255);
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const offset = ((margin + y * scale + dy) * width + margin + x * scale + dx) * 4;
          pixels.fill(dark ? 0 : 255, offset, offset + 3);
        }
      }
    }),
  );
  // No inverted retry: the polarity must be right as drawn, as some phone scanners insist.
  return jsQR(pixels, width, height, { inversionAttempts: 'dontInvert' })?.data;
}

