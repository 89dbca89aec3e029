import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFIG_FILE_NAME,
  CONFIG_KEYS,
  ConfigError,
  configJsonSchema,
  findConfigFile,
  loadConfig,
  mergeWithFlags,
  parseConfig,
  parseProxyFlag,
  type ConfigOptions,
} from '../src/config.js';
import { IMPLEMENTED_KEYWORDS } from '../src/config/json-schema.js';
import { UsageError } from '../src/options.js';
import { cleanup, tempDir } from './helpers/server.js';

afterAll(cleanup);

const FILE = resolve('/project/site/serve-dir.config.json');
const FOLDER = resolve('/project/site');

function errorOf(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('parseConfig: valid files', () => {
  // [file text, options]
  const rows: Array<[string, ConfigOptions]> = [
    ['{}', {}],
    ['\ufeff{ "port": 8080 }', { port: 8080 }], // a BOM from a Windows editor
    ['{ "$schema": "./node_modules/serve-dir/schema/serve-dir.config.schema.json", "port": 0 }', { port: 0 }],
    ['{ "directory": "dist" }', { directory: join(FOLDER, 'dist') }], // relative to the file, not the cwd
    ['{ "directory": "../build" }', { directory: resolve(FOLDER, '../build') }],
    ['{ "directory": "/srv/www" }', { directory: resolve('/srv/www') }],
    ['{ "bind": "0.0.0.0", "quiet": true, "listing": false, "dotfiles": true }', { bind: '0.0.0.0', quiet: true, listing: false, dotfiles: true }],
    ['{ "cache": 31536000, "immutable": true, "compress": false }', { cache: 31536000, immutable: true, compress: false }],
    ['{ "watch": true, "ignore": ["*.log", "tmp/"], "poll": true }', { watch: true, ignore: ['*.log', 'tmp/'], poll: true }],
    ['{ "allowedHost": ["dev.local"] }', { allowedHost: ['dev.local'] }],
    ['{ "cacheMemory": 16 }', { cacheMemory: 16 * 1024 * 1024 }], // MiB, as the flag
    ['{ "spa": true }', { spa: true }],
    ['{ "spa": "200.html" }', { spa: '200.html' }], // a file of the served folder: not resolved
    ['{ "spa": "app/shell.html" }', { spa: 'app/shell.html' }],
    ['{ "cleanUrls": true, "cors": true, "json": true, "qr": true }', { cleanUrls: true, cors: true, json: true, qr: true }],
    ['{ "header": ["Cross-Origin-Opener-Policy: same-origin", "X-A:1"] }', { header: ['Cross-Origin-Opener-Policy: same-origin', 'X-A:1'] }],
    [
      '{ "headers": [{ "source": "/assets/**", "headers": { "Cache-Control": "max-age=31536000, immutable" } }] }',
      { headers: [{ source: '/assets/**', headers: { 'Cache-Control': 'max-age=31536000, immutable' } }] },
    ],
    ['{ "auth": "alice:s3cret:x" }', { auth: 'alice:s3cret:x' }],
    ['{ "open": true }', { open: true }],
    ['{ "open": "/docs/" }', { open: '/docs/' }],
    [
      '{ "tlsCert": "certs/cert.pem", "tlsKey": "/etc/key.pem", "tlsPasswordFile": "pw.txt", "https": false, "http2": false }',
      { tlsCert: join(FOLDER, 'certs/cert.pem'), tlsKey: resolve('/etc/key.pem'), tlsPasswordFile: join(FOLDER, 'pw.txt'), https: false, http2: false },
    ],
    [
      '{ "proxy": { "/api": "http://127.0.0.1:5000", "/ws": { "target": "ws://localhost:6000", "ws": true, "changeOrigin": true, "rewrite": { "from": "/ws", "to": "" } } } }',
      {
        proxy: {
          '/api': { target: 'http://127.0.0.1:5000' }, // a bare URL becomes { target }
          '/ws': { target: 'ws://localhost:6000', ws: true, changeOrigin: true, rewrite: { from: '/ws', to: '' } },
        },
      },
    ],
  ];
  it.each(rows)('%s', (text, expected) => {
    expect(parseConfig(text, FILE)).toEqual(expected);
  });
});

describe('parseConfig: mistakes are one line naming the file, the key and the valid keys', () => {
  // [file text, the message, after "<file>"]
  const rows: Array<[string, RegExp]> = [
    // JSON syntax, with line and column
    ['{ "port": 8080, }', /^:1:17: invalid JSON: trailing comma before "}"$/],
    ['{\n  "port": 8080\n  "watch": true\n}', /^:3:3: invalid JSON: expected "," or "}", found """ \(a comma is missing\)$/],
    ['{ port: 8080 }', /^:1:3: invalid JSON: keys must be in double quotes/],
    ["{ 'port': 8080 }", /^:1:3: invalid JSON: keys must be in double quotes$/],
    ['{ "spa": \'index.html\' }', /^:1:10: invalid JSON: strings must be in double quotes$/],
    ['{\n  // the port\n  "port": 1\n}', /^:2:3: invalid JSON: comments are not allowed in JSON$/],
    ['{ "port": 08080 }', /^:1:11: invalid JSON: invalid number/],
    ['{ "port": 8080', /^:1:15: invalid JSON: expected "," or "}", found end of file$/],
    ['', /^:1:1: invalid JSON: unexpected end of file/],
    ['{ "a": "b\n" }', /^:1:10: invalid JSON: a string runs past the end of the line/],
    ['{ "a": "\\x" }', /^:1:9: invalid JSON: invalid escape "\\x"/],
    ['{ "port": 1 } }', /^:1:15: invalid JSON: unexpected "}" after the end of the settings$/],
    ['[1, 2, ]', /^:1:8: invalid JSON: trailing comma before "]"$/],
    // not an object
    ['[]', /^: expected an object of settings such as \{ "port": 8080 \}, not an array$/],
    ['8080', /^: expected an object of settings .*, not 8080$/],
    ['null', /^: expected an object of settings .*, not null$/],
    // unknown keys
    ['{ "prot": 1 }', /^: unknown key "prot" \(did you mean "port"\?\); valid keys: directory, port, bind, quiet, listing, .*, proxy$/],
    ['{ "cache-memory": 1 }', /^: unknown key "cache-memory" \(did you mean "cacheMemory"\?\)/],
    ['{ "no-listing": true }', /^: unknown key "no-listing" \(did you mean "listing"\?\)|^: unknown key "no-listing"; valid keys/],
    ['{ "config": "other.json" }', /^: unknown key "config"; valid keys: /], // no chains of config files
    ['{ "host": "0.0.0.0" }', /^: unknown key "host"/], // aliases are flags only
    ['{ "strictPort": true }', /^: unknown key "strictPort"/], // library-only options are not config
    ['{ "__proto__": { "port": 1 } }', /^: unknown key "__proto__"/],
    ['{ "\u202eevil": 1 }', /^: unknown key "\\u202eevil"/], // shown escaped, not reordering the terminal
    // wrong types and ranges
    ['{ "port": "8080" }', /^: "port" must be a whole number from 0 to 65535, not "8080"$/],
    ['{ "port": 65536 }', /^: "port" must be a whole number from 0 to 65535, not 65536$/],
    ['{ "port": 80.5 }', /^: "port" must be a whole number from 0 to 65535, not 80.5$/],
    ['{ "cache": -1 }', /^: "cache" must be a whole number from 0 to 9999999999, not -1$/],
    ['{ "watch": "yes" }', /^: "watch" must be true or false, not "yes"$/],
    ['{ "quiet": null }', /^: "quiet" must be true or false, not null$/],
    ['{ "bind": "" }', /^: "bind" must be a non-empty string, not ""$/],
    ['{ "ignore": "*.log" }', /^: "ignore" must be an array of non-empty strings, not "\*\.log"$/],
    ['{ "ignore": ["ok", 3] }', /^: "ignore\[1\]" must be a non-empty string, not 3$/],
    ['{ "spa": 1 }', /^: "spa" must be true or false or a non-empty string, not 1$/],
    ['{ "spa": "../outside.html" }', /^: "spa": must name a file inside the served folder/],
    ['{ "spa": ".hidden.html" }', /^: "spa": must name a file inside the served folder/],
    ['{ "open": "docs" }', /^: "open": must be a path starting with "\/", not "docs"$/],
    ['{ "directory": 5 }', /^: "directory" must be a non-empty string, not 5$/],
    // the checks of each key
    ['{ "header": ["X Y: 1"] }', /^: header\[0\] "X Y: 1": the name "X Y" must be a token/],
    ['{ "header": ["X-A: 1", "X-B: a\\r\\nb"] }', /^: header\[1\] "X-B: a\\r\\nb": the value of X-B contains CR/],
    ['{ "header": "X-A: 1" }', /^: "header" must be an array of strings, not "X-A: 1"$/],
    ['{ "headers": [{ "source": "/a" }] }', /^: "headers\[0\]" needs the key "headers"$/],
    ['{ "headers": [{ "source": "/a", "headers": {}, "extra": 1 }] }', /^: "headers\[0\]": unknown key "extra"; valid keys: source, headers$/],
    ['{ "headers": [{ "source": "/a", "headers": { "X-A": 1 } }] }', /^: "headers\[0\]\.headers\.X-A" must be a string, not 1$/],
    ['{ "headers": [{ "source": "a/b", "headers": {} }] }', /^: headers\[0\]\.source "a\/b": start it with "\/"/],
    ['{ "auth": "alice" }', /^: "auth": expected user:password, both non-empty$/],
    ['{ "auth": "alice:pa\\nss" }', /^: "auth": the user and password must not contain control characters$/],
    ['{ "proxy": { "/api": 5000 } }', /^: "proxy\.\/api" must be a non-empty string or an object, not 5000$/],
    ['{ "proxy": { "/api": { "traget": "http://a" } } }', /^: "proxy\.\/api" needs the key "target"$/],
    ['{ "proxy": { "/api": { "target": "http://a", "chageOrigin": true } } }', /^: "proxy\.\/api": unknown key "chageOrigin" \(did you mean "changeOrigin"\?\); valid keys: target, changeOrigin, rewrite, ws, timeout$/],
    ['{ "proxy": { "/api": { "target": "http://a", "ws": "yes" } } }', /^: "proxy\.\/api\.ws" must be true or false, not "yes"$/],
    ['{ "proxy": { "api": "http://a" } }', /^: "proxy": the prefix "api" must be a plain URL path starting with "\/"/],
    ['{ "proxy": { "/api/../x": "http://a" } }', /^: "proxy": the prefix "\/api\/\.\.\/x" must be a plain URL path/],
    ['{ "proxy": { "/api%2f": "http://a" } }', /^: "proxy": the prefix "\/api%2f" must be a plain URL path/],
    ['{ "proxy": { "/api": "localhost:5000" } }', /^: "proxy": the target of "\/api" must be an http\(s\) or ws\(s\) URL, not "localhost:5000"$/],
    ['{ "proxy": { "/api": "not a url" } }', /^: "proxy": the target of "\/api" is not a URL: "not a url"$/],
    ['{ "proxy": { "/api": "ftp://a" } }', /^: "proxy": the target of "\/api" must be an http\(s\) or ws\(s\) URL/],
    ['{ "proxy": { "/api": { "target": "http://a", "rewrite": { "from": "api", "to": "" } } } }', /^: "proxy": the rewrite of "\/api" must replace a path prefix starting with "\/"/],
  ];
  it.each(rows)('%j', (text, message) => {
    const error = errorOf(() => parseConfig(text, FILE));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toBeInstanceOf(UsageError); // the CLI's existing one-line, exit-1 path
    expect(error.message.startsWith(FILE)).toBe(true);
    expect(error.message.slice(FILE.length)).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('never repeats the password of a malformed auth', () => {
    expect(errorOf(() => parseConfig('{ "auth": "alice:hun\\u0007ter2" }', FILE)).message).not.toContain('ter2');
  });
});

describe('the key table is the single source of truth', () => {
  it('the published schema file is generated from it (run vitest -u after changing the table)', async () => {
    await expect(`${JSON.stringify(configJsonSchema(), null, 2)}\n`).toMatchFileSnapshot('../schema/serve-dir.config.schema.json');
  });

  it('uses only the schema keywords the validator implements', () => {
    const used = new Set<string>();
    const walk = (node: unknown, inProperties: boolean): void => {
      if (Array.isArray(node)) node.forEach((item) => walk(item, false));
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (!inProperties) used.add(key);
          walk(value, !inProperties && key === 'properties');
        }
      }
    };
    for (const spec of Object.values(CONFIG_KEYS)) walk(spec.schema, false);
    expect([...used].filter((keyword) => !IMPLEMENTED_KEYWORDS.has(keyword))).toEqual([]);
  });

  it('has every flag of the CLI, camel-cased (aliases and --config aside)', async () => {
    const { buildProgram } = await import('../src/cli.js');
    const flags = buildProgram()
      .options.map((option) => option.attributeName())
      .filter((name) => !['host', 'single', 'version', 'help', 'config'].includes(name));
    expect(Object.keys(CONFIG_KEYS)).toEqual(expect.arrayContaining(flags));
  });

  it('documents every key for editors', () => {
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) expect(spec.schema.description, key).toMatch(/\S/);
  });
});

describe('loadConfig: which file, from real folders', () => {
  it('reads the served folder first, then the working directory, then none', async () => {
    const cwd = await tempDir();
    const site = join(cwd, 'site');
    await mkdir(site);
    expect(loadConfig({ cwd, directory: 'site' })).toBeUndefined();

    await writeFile(join(cwd, CONFIG_FILE_NAME), '{ "port": 1111, "directory": "site" }');
    expect(loadConfig({ cwd, directory: 'site' })).toEqual({ file: join(cwd, CONFIG_FILE_NAME), options: { port: 1111, directory: site } });
    expect(loadConfig({ cwd })?.options.port).toBe(1111);

    await writeFile(join(site, CONFIG_FILE_NAME), '{ "port": 2222, "tlsCert": "cert.pem" }');
    expect(loadConfig({ cwd, directory: 'site' })).toEqual({
      file: join(site, CONFIG_FILE_NAME),
      options: { port: 2222, tlsCert: join(site, 'cert.pem') }, // relative to that file's folder
    });
    expect(loadConfig({ cwd, directory: site })?.options.port).toBe(2222); // absolute directory too
  });

  it('a missing served folder falls back to the working directory (the folder check reports it)', async () => {
    const cwd = await tempDir();
    expect(findConfigFile({ cwd, directory: 'nowhere' })).toBeUndefined();
  });

  it('--config names the file, relative to the working directory, and beats the others', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, CONFIG_FILE_NAME), '{ "port": 1111 }');
    await mkdir(join(cwd, 'conf'));
    await writeFile(join(cwd, 'conf', 'dev.json'), '{ "port": 3333, "directory": "../public" }');
    expect(loadConfig({ cwd, explicit: 'conf/dev.json' })).toEqual({
      file: join(cwd, 'conf', 'dev.json'),
      options: { port: 3333, directory: join(cwd, 'public') },
    });
  });

  const unreadable: Array<[string, (cwd: string) => Promise<void>, RegExp]> = [
    ['a missing --config', async () => undefined, /^config file .*missing\.json: not found$/],
    ['a folder as --config', async (cwd) => mkdir(join(cwd, 'missing.json')), /^config file .*missing\.json: is a directory$/],
  ];
  it.each(unreadable)('%s is a one-line error', async (_, prepare, message) => {
    const cwd = await tempDir();
    await prepare(cwd);
    const error = errorOf(() => loadConfig({ cwd, explicit: 'missing.json' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  it('a syntax error in a found file names that file with line and column', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, CONFIG_FILE_NAME), '{\n  "port": 80,\n}\n');
    expect(errorOf(() => loadConfig({ cwd })).message).toBe(`${join(cwd, CONFIG_FILE_NAME)}:3:1: invalid JSON: trailing comma before "}"`);
  });
});

describe('mergeWithFlags: flags given on the command line override the file', () => {
  interface Flags {
    port: number | undefined;
    listing: boolean;
    quiet: boolean;
    header: string[];
    directory: string;
  }
  const flags: Flags = { port: 9000, listing: true, quiet: false, header: ['X-Cli: 1'], directory: '.' };
  // [config, flags given on the command line, merged]
  const rows: Array<[Partial<Flags>, Array<keyof Flags>, Flags]> = [
    [{}, [], flags],
    [{ port: 1111 }, [], { ...flags, port: 1111 }], // a default never beats the file
    [{ port: 1111 }, ['port'], flags],
    [{ listing: false }, [], { ...flags, listing: false }], // --no-listing's default "true" is no choice
    [{ listing: false }, ['listing'], flags],
    [{ header: ['X-File: 1'] }, ['header'], flags], // lists are replaced, not concatenated
    [{ header: ['X-File: 1'] }, [], { ...flags, header: ['X-File: 1'] }],
    [{ directory: '/srv', quiet: undefined }, [], { ...flags, directory: '/srv' }],
  ];
  it.each(rows)('%j with %j from the command line', (config, given, expected) => {
    expect(mergeWithFlags(config, flags, (key) => given.includes(key))).toEqual(expected);
    expect(flags.port).toBe(9000); // not mutated
  });
});

describe('parseProxyFlag: --proxy <prefix>=<url>, checked as the config file is', () => {
  it('splits at the first "="', () => {
    expect(parseProxyFlag('/api=http://127.0.0.1:5000/base')).toEqual(['/api', { target: 'http://127.0.0.1:5000/base' }]);
  });

  const invalid: Array<[string, RegExp]> = [
    ['http://127.0.0.1:5000', /^invalid --proxy "http:\/\/127.0.0.1:5000": expected <prefix>=<url>/],
    ['=http://a', /expected <prefix>=<url>/],
    ['api=http://a', /^invalid --proxy: the prefix "api" must be a plain URL path/],
    ['/api/..=http://a', /the prefix "\/api\/\.\." must be a plain URL path/],
    ['/api=localhost:5000', /^invalid --proxy: the target of "\/api" must be an http\(s\) or ws\(s\) URL/],
    ['/api=http://a/?x=1', /cannot have a query or fragment/],
  ];
  it.each(invalid)('%j', (text, message) => {
    expect(() => parseProxyFlag(text)).toThrow(message);
  });
});
