/** Reading the README as the tests need it: its sections and its fenced code blocks. */

export interface FencedBlock {
  /** The language of the fence (`sh`, `js`, `json`, `ts`), or '' for none. */
  lang: string;
  /** With `test`, the block is run by readme-examples.test.ts; `test=name` names its check. */
  test: boolean;
  name: string | undefined;
  code: string;
  /** The 1-based line of the opening fence, for messages. */
  line: number;
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  for (const match of markdown.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const info = match[2]!.trim();
    const test = /^test(=|$)/.exec(info) !== null;
    blocks.push({
      lang: match[1]!,
      test,
      name: /^test=(\S+)$/.exec(info)?.[1],
      code: match[3]!,
      line: markdown.slice(0, match.index).split('\n').length,
    });
  }
  return blocks;
}

/** The text under `## title` (or `### title`), down to the next heading of the same or a higher level. */
export function markdownSection(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  let inFence = false;
  let start = -1;
  let level = 0;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('```')) inFence = !inFence;
    if (inFence) continue;
    const heading = /^(#+) (.+)$/.exec(line);
    if (heading === null) continue;
    if (start < 0 && heading[2] === title) {
      start = i;
      level = heading[1]!.length;
    } else if (start >= 0 && heading[1]!.length <= level) {
      return lines.slice(start, i).join('\n');
    }
  }
  if (start < 0) throw new Error(`no section "${title}" in the README`);
  return lines.slice(start).join('\n');
}

/** The commands of a `sh` block: one a line, comments and blank lines out. */
export function shellCommands(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
