/**
 * The README against what it describes: its flag table against `serve-dir --help` (every flag
 * in both, in the same group, with the same defaults, and the defaults the code uses), its
 * TypeScript declarations against the source's, and its links against the repository.
 * The examples themselves are run by readme-examples.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BIND, DEFAULT_CACHE_MEMORY, DEFAULT_INDEX, DEFAULT_PORT, DEFAULT_STALL_TIMEOUT } from '../../src/options.js';
import { REPO_ROOT } from '../helpers/server.js';
import { fencedBlocks, markdownSection } from './readme-blocks.js';

const run = promisify(execFile);
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

// ------------------------------------------------------------------ the flag table and --help

interface HelpOption {
  long: string;
  short: string | undefined;
  group: string;
  /** The `(default: X)` of its help line. */
  default: string | undefined;
}

/** The options `--help` lists, under their group headings ("Serving:" …). */
function parseHelp(help: string): { options: HelpOption[]; argumentDefault: string | undefined } {
  const options: HelpOption[] = [];
  let group = '';
  let argumentDefault: string | undefined;
  for (const line of help.split('\n')) {
    if (/^Examples:/.test(line)) break;
    const heading = /^(\S.*):$/.exec(line);
    if (heading !== null) {
      group = heading[1]!;
      continue;
    }
    // `(default: localhost; 0.0.0.0: network)`: what follows a `;` is a remark.
    const defaultValue = /\(default: ([^);]*)[);]/.exec(line)?.[1];
    if (group === 'Arguments' && /^ {2}dir\s/.test(line)) argumentDefault = defaultValue;
    const flag = /^ {2}(?:(-[a-zA-Z]), )?(--[a-z0-9-]+)/.exec(line);
    if (flag === null) continue;
    options.push({ long: flag[2]!, short: flag[1], group, default: defaultValue });
  }
  return { options, argumentDefault };
}

interface TableRow {
  flags: string;
  longs: string[];
  shorts: string[];
  default: string;
  group: string;
}

/** The rows of the README's flag table (under "## Options"), with the bold group rows applied. */
function flagTable(): TableRow[] {
  const section = markdownSection(README, 'Options');
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  expect(lines[0]).toMatch(/^\| flag \| default \| what it does \|$/);
  const rows: TableRow[] = [];
  let group = '';
  for (const line of lines.slice(2)) {
    const cells = line.slice(1, -1).split(' | ').map((cell) => cell.trim());
    const heading = /^\*\*(.+)\*\*$/.exec(cells[0]!);
    if (heading !== null) {
      group = heading[1]!;
      continue;
    }
    rows.push({
      flags: cells[0]!,
      longs: [...cells[0]!.matchAll(/(?<![\w-])--[a-z0-9-]+/g)].map((match) => match[0]),
      shorts: [...cells[0]!.matchAll(/(?<![\w-])-[a-zA-Z](?![\w-])/g)].map((match) => match[0]),
      default: cells[1]!,
      group,
    });
  }
  return rows;
}

describe('the flag table and --help', () => {
  let help: ReturnType<typeof parseHelp>;
  let rows: TableRow[];
  const rowFor = (long: string) => {
    const found = rows.filter((row) => row.longs.includes(long));
    expect(found, `rows naming ${long}`).toHaveLength(1);
    return found[0]!;
  };

  beforeAll(async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'bin', 'serve-dir.js'), '--help'], { env: { ...process.env, NO_COLOR: '1' } });
    help = parseHelp(stdout);
    rows = flagTable();
  });

  it('lists every flag of --help, and no other', () => {
    expect(help.options.length).toBeGreaterThan(30);
    const inHelp = help.options.map((option) => option.long).sort();
    const inTable = rows.flatMap((row) => row.longs).sort();
    expect(inTable).toEqual(inHelp);
  });

  it('gives each flag the short form --help gives it, and none other', () => {
    for (const option of help.options) {
      expect(rowFor(option.long).shorts, option.long).toEqual(option.short === undefined ? [] : [option.short]);
    }
    // The folder argument's row names -d, --directory too.
    expect(rows[0]!.flags).toMatch(/^`\[dir\]`/);
  });

  it('puts each flag in the group --help puts it in', () => {
    for (const option of help.options) {
      expect(rowFor(option.long).group, option.long).toBe(option.group);
    }
  });

  it('states the default --help states, for every flag that shows one', () => {
    const withDefault = help.options.filter((option) => option.default !== undefined);
    expect(withDefault.map((option) => option.long)).toEqual(expect.arrayContaining(['--port', '--bind', '--cache', '--cache-memory', '--stall-timeout', '--config']));
    for (const option of withDefault) {
      expect(rowFor(option.long).default, option.long).toContain(`\`${option.default}\``);
    }
    expect(rows[0]!.default).toBe(`\`${help.argumentDefault}\``);
  });

  it('states the defaults the code uses', () => {
    expect(rowFor('--port').default).toBe(`\`${DEFAULT_PORT}\``);
    expect(rowFor('--bind').default).toBe(`\`${DEFAULT_BIND}\``);
    expect(rowFor('--cache-memory').default).toBe(`\`${DEFAULT_CACHE_MEMORY / 1024 / 1024}\``);
    expect(rowFor('--stall-timeout').default).toBe(`\`${DEFAULT_STALL_TIMEOUT}\``);
    expect(rowFor('--index').default).toBe(DEFAULT_INDEX.map((name) => `\`${name}\``).join(', '));
  });

  it('names the one hidden alias below the table', async () => {
    // `-s, --single` works but is kept off the one-screen help, and so off the table.
    const { buildProgram } = await import('../../src/cli.js');
    const hidden = buildProgram().options.filter((option) => option.hidden).map((option) => option.flags);
    expect(hidden).toEqual(['-s, --single [file]']);
    expect(markdownSection(README, 'Options')).toContain('`-s, --single [file]` is accepted for `--spa`');
  });
});

// ------------------------------------------------------------------ the declarations and the source

/** Whitespace and a leading `|` out, so that layout and comments do not count. */
function normalized(text: string): string {
  return text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '').replace(/^\|/, '').replace(/;}/g, '}');
}

type Shape = Record<string, string>;

/** An interface as comparable data: each member's name, `?`, `readonly` and type (or signature). */
function interfaceShape(declaration: ts.InterfaceDeclaration, source: ts.SourceFile): Shape {
  const shape: Shape = {};
  for (const member of declaration.members) {
    const readonly = ts.canHaveModifiers(member) && (ts.getModifiers(member) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ReadonlyKeyword);
    if (ts.isPropertySignature(member)) {
      shape[member.name.getText(source)] = `${readonly ? 'readonly ' : ''}${member.questionToken ? '?' : ''}:${normalized(member.type!.getText(source))}`;
    } else if (ts.isMethodSignature(member)) {
      shape[member.name.getText(source)] = `method(${member.parameters.map((parameter) => normalized(parameter.getText(source))).join(',')}):${normalized(member.type!.getText(source))}`;
    } else if (ts.isCallSignatureDeclaration(member)) {
      shape['(call)'] = `(${member.parameters.map((parameter) => normalized(parameter.getText(source))).join(',')}):${normalized(member.type!.getText(source))}`;
    } else {
      shape[`(${ts.SyntaxKind[member.kind]})`] = normalized(member.getText(source));
    }
  }
  return shape;
}

/** A function's parameters (an initializer makes one optional, as the caller sees it) and return type. */
function functionShape(declaration: ts.FunctionDeclaration, source: ts.SourceFile): string {
  const typeText = (node: ts.Node | undefined) => (node === undefined ? '(inferred)' : normalized(node.getText(source)));
  const parameters = declaration.parameters.map((parameter) => `${parameter.name.getText(source)}${parameter.questionToken || parameter.initializer ? '?' : ''}:${typeText(parameter.type)}`);
  return `(${parameters.join(',')}):${typeText(declaration.type)}`;
}

interface Declarations {
  interfaces: Map<string, Shape>;
  aliases: Map<string, string>;
  functions: Map<string, string>;
}

function declarationsOf(text: string, fileName: string, into: Declarations, exportedOnly: boolean): void {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  for (const statement of source.statements) {
    const exported = (ts.canHaveModifiers(statement) ? ts.getModifiers(statement) ?? [] : []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);
    if (exportedOnly && !exported) continue;
    if (ts.isInterfaceDeclaration(statement)) into.interfaces.set(statement.name.text, interfaceShape(statement, source));
    else if (ts.isTypeAliasDeclaration(statement)) into.aliases.set(statement.name.text, normalized(statement.type.getText(source)));
    else if (ts.isFunctionDeclaration(statement) && statement.name !== undefined) into.functions.set(statement.name.text, functionShape(statement, source));
  }
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

describe('the declarations in the README', () => {
  const empty = (): Declarations => ({ interfaces: new Map(), aliases: new Map(), functions: new Map() });
  const readme = empty();
  const source = empty();
  const section = markdownSection(README, 'Library API');
  const blocks = fencedBlocks(section).filter((block) => block.lang === 'ts');
  for (const [i, block] of blocks.entries()) declarationsOf(block.code, `README-${i}.ts`, readme, false);
  for (const path of sourceFiles(join(REPO_ROOT, 'src'))) declarationsOf(readFileSync(path, 'utf8'), path, source, true);

  it('declare the two functions, the options, the handler, the server and the events', () => {
    expect([...readme.functions.keys()].sort()).toEqual(['createHandler', 'startServer']);
    expect([...readme.interfaces.keys()]).toEqual(expect.arrayContaining(['Options', 'Handler', 'RunningServer', 'ListeningEvent', 'RequestEvent', 'ChangeEvent', 'WatchingEvent', 'WarningEvent', 'ErrorEvent']));
    expect([...readme.aliases.keys()].sort()).toEqual(['ServerEvent', 'WarningCode']);
  });

  it('document every option of src/options.ts with its type, and no other', () => {
    // The key sets first, for a message that names a missing or stale option.
    expect(Object.keys(readme.interfaces.get('Options')!).sort()).toEqual(Object.keys(source.interfaces.get('Options')!).sort());
    expect(readme.interfaces.get('Options')).toEqual(source.interfaces.get('Options'));
  });

  it('match the source, member for member', () => {
    for (const [name, shape] of readme.interfaces) {
      expect(source.interfaces.has(name), `interface ${name} exported by src/`).toBe(true);
      expect(shape, `interface ${name}`).toEqual(source.interfaces.get(name));
    }
    for (const [name, type] of readme.aliases) expect(type, `type ${name}`).toBe(source.aliases.get(name));
    for (const [name, signature] of readme.functions) expect(signature, `function ${name}`).toBe(source.functions.get(name));
  });

  it('cover every event the server emits', () => {
    const union = source.aliases.get('ServerEvent')!.split('|');
    for (const name of union) expect(readme.interfaces.has(name), name).toBe(true);
  });
});

// ------------------------------------------------------------------ links and statements

describe('the README and bench/README.md', () => {
  const documents = ['README.md', join('bench', 'README.md')];

  /** GitHub's anchor for a heading: lower case, punctuation out, spaces to hyphens. */
  const anchor = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} -]/gu, '')
      .replace(/ /g, '-');

  it.each(documents)('%s links only to files of this repository that exist, and to headings it has', (document) => {
    const text = readFileSync(join(REPO_ROOT, document), 'utf8');
    const prose = text.replace(/^```[\s\S]*?^```/gm, '');
    const links = [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
    if (document === 'README.md') expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      if (/^https?:\/\//.test(link)) continue;
      const [path, fragment] = link.split('#') as [string, string | undefined];
      const target = path === '' ? join(REPO_ROOT, document) : resolve(REPO_ROOT, dirname(document), path);
      expect(relative(REPO_ROOT, target).startsWith('..'), `${link} stays in the repository`).toBe(false);
      expect(existsSync(target), `${link} exists`).toBe(true);
      if (fragment !== undefined && target.endsWith('.md')) {
        const headings = [...readFileSync(target, 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) => anchor(match[1]!));
        expect(headings, `${link}: a heading for #${fragment}`).toContain(fragment);
      }
    }
  });

  it.each(documents)('%s names no path outside the repository', (document) => {
    const text = readFileSync(join(REPO_ROOT, document), 'utf8');
    expect(text).not.toMatch(/\.\.\/shared|\/work\/|peer-bench\.sh/);
  });

  it('states no figure that drifts with every commit: test counts, suite times', () => {
    expect(README).not.toMatch(/[\d,]+\s+tests\b/);
    expect(README).not.toMatch(/(runs|suite)[^.]*\b(under|in) (a minute|\d+ ?s\b)/);
  });

  it('says what `npm start` does as package.json does it', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(README).toContain('npm install && npm start   # builds it, then serves the demo site in fixtures/site with live reload');
    expect(scripts.prestart).toBe('npm run build');
    expect(scripts.start).toMatch(/serve-dir\.js fixtures\/site --watch$/);
    expect(scripts.test).toMatch(/typecheck.*build.*vitest run/);
  });
});

// ------------------------------------------------------------------ the speed summary and the bench run

const cellsOf = (row: string) => row.split('|').slice(1, -1).map((cell) => cell.trim());

describe("the README's speed summary", () => {
  /** bench/README.md's table of one full run: server → column → figure, and serve-dir's ratio to it. */
  function benchRun(): Map<string, Map<string, { figure: number; ratio: number | undefined }>> {
    const text = readFileSync(join(REPO_ROOT, 'bench', 'README.md'), 'utf8');
    const lines = markdownSection(text, 'One full run').split('\n').filter((line) => line.startsWith('| '));
    const header = cellsOf(lines[0]!);
    const servers = new Map<string, Map<string, { figure: number; ratio: number | undefined }>>();
    for (const line of lines.slice(2)) {
      const cells = cellsOf(line);
      if (cells.length !== header.length) break; // the next table
      const columns = new Map<string, { figure: number; ratio: number | undefined }>();
      for (const [i, cell] of cells.entries()) {
        const match = /^([\d,.]+)(?: \(×([\d.]+)\))?/.exec(cell);
        if (match !== null) columns.set(header[i]!, { figure: Number(match[1]!.replace(/,/g, '')), ratio: match[2] === undefined ? undefined : Number(match[2]) });
      }
      servers.set(cells[0]!.split(' ')[0]!, columns);
    }
    return servers;
  }

  it('has the ratios and start times of the run in bench/README.md', () => {
    const run = benchRun();
    const section = markdownSection(README, 'Speed');
    const lines = section.split('\n').filter((line) => line.startsWith('| '));
    const peers = cellsOf(lines[0]!).slice(1);
    expect(peers).toEqual(['sirv-cli', 'http-server', 'serve', 'live-server', 'python', 'nginx']);
    const columnOf: Record<string, string> = {
      '1 KiB file, req/s': '1 KiB req/s',
      '135 KiB file, req/s': '135 KiB req/s',
      '100 MiB file, MB/s': '100 MiB MB/s',
      '10,000-entry listing, req/s': '10k listing req/s',
    };
    let compared = 0;
    for (const line of lines.slice(2)) {
      const [label, ...cells] = cellsOf(line);
      const start = /^start to first response, ms \(serve-dir: (\d+)\)$/.exec(label!);
      if (start !== null) expect(Number(start[1])).toBe(run.get('serve-dir')!.get('start ms')!.figure);
      for (const [i, cell] of cells.entries()) {
        const measured = run.get(peers[i]!)!.get(start === null ? columnOf[label!]! : 'start ms');
        const stated = Number(cell.replace(/[×,]/g, ''));
        if (measured === undefined) {
          expect(cell, `${label}, ${peers[i]}`).toBe('no listing');
          continue;
        }
        const expected = start === null ? measured.ratio! : measured.figure;
        // Rounded to two or three figures in the summary.
        expect(Math.abs(stated - expected) / expected, `${label}, ${peers[i]}: ${cell} against ${expected}`).toBeLessThan(0.05);
        compared++;
      }
    }
    expect(compared).toBe(29);
  });
});
