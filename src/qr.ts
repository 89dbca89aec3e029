// `--qr`: the network URL as a QR code in the terminal, to open the page on a phone.
//
// uqr does the encoding (version choice, Reed-Solomon, masks); this file only draws the
// module matrix. Two rows of modules share one line of text through the half blocks
// ▀ ▄ █, so a LAN URL (version 2 or 3) takes about 17 lines.
//
// Polarity matters: a scanner looks for dark modules on a light background, and many refuse
// the inverse. Without colours the text colour is taken to be light on a dark background (the
// default of most terminals), so the blocks draw the *light* modules and the quiet zone, and
// dark modules are the terminal's own background. With colours, black on white is set
// explicitly and the code is right in any theme. `invert` serves dark-on-light terminals
// without colours.

import { encode } from 'uqr';

export interface QrOptions {
  /**
   * Light modules around the code. ISO/IEC 18004 asks for 4; without it a scanner can mistake
   * the surrounding text for part of the code.
   */
  quietZone?: number;
  /** Set black-on-white explicitly with ANSI colours (when the terminal supports colour). */
  colors?: boolean;
  /** Without colours, the terminal draws dark text on a light background. */
  invert?: boolean;
}

/** The lines of the QR code of `text` (no trailing newline). */
export function renderQrCode(text: string, options: QrOptions = {}): string {
  const quietZone = options.quietZone ?? 4;
  // 'L' holds the most per version; boostEcc raises the level for free when the data still fits.
  const { data } = encode(text, { ecc: 'L', boostEcc: true, border: quietZone });
  const colors = options.colors ?? false;
  // Which modules the blocks (the text colour) draw: dark ones when the text is dark.
  const drawDark = colors || (options.invert ?? false);
  const drawn = (dark: boolean | undefined) => dark !== undefined && dark === drawDark;

  const lines: string[] = [];
  for (let y = 0; y < data.length; y += 2) {
    const top = data[y] ?? [];
    const bottom = data[y + 1];
    let line = '';
    for (let x = 0; x < top.length; x++) {
      // Below the last row (an odd count) is background, drawn as nothing: white with colours.
      const upper = drawn(top[x]);
      const lower = bottom !== undefined && drawn(bottom[x]);
      line += upper ? (lower ? '█' : '▀') : lower ? '▄' : ' ';
    }
    lines.push(colors ? `\x1b[30;107m${line}\x1b[0m` : line);
  }
  return lines.join('\n');
}
