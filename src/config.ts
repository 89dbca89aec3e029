// The config file: serve-dir.config.json in the served folder or the working directory, or the
// file named by `--config <file>`. Its keys are the flags' names, camel-cased (`--cache-memory`
// is "cacheMemory", `--no-listing` is "listing": false), in the flags' units; flags given on the
// command line override it (mergeWithFlags).
//
// CONFIG_KEYS below is the single source of truth: the published JSON Schema
// (schema/serve-dir.config.schema.json, for editors' completion and checking) is generated from
// it and a test keeps the file equal to configJsonSchema(); the same schema fragments are what a
// file is validated against here, followed by each key's own checks (header syntax, globs,
// credentials, URLs) and conversions (relative paths resolve against the config file's folder).

import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkValue, describeValue, isPlainObject, quote, SchemaViolation, unknownKeyReason, type JsonSchema } from './config/json-schema.js';
import { findJsonSyntaxError } from './config/json-syntax.js';
import { parseCredentials } from './http/basic-auth.js';
import { createHeaderRules, parseHeaderLine, type ScopedHeadersConfig } from './http/header-rules.js';
import { fallbackFileSegments } from './http/navigation.js';
import { UsageError, type Options } from './options.js';
import { checkProxyRoute, type ProxyRoute } from './proxy/route.js';

// The checks of proxy routes live with the routes; the config file and the flag share them.
export { checkProxyRoute, parseProxyFlag, type ProxyRoute } from './proxy/route.js';

export const CONFIG_FILE_NAME = 'serve-dir.config.json';

/** A mistake in the config file: one line naming the file (and the key), never a stack. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/**
 * What a config file may set, in the units of the library options (cacheMemory in bytes, paths
 * absolute). Every key is optional; what is absent is left to flags and defaults.
 */
export type ConfigOptions = Partial<
  Pick<
    Options,
    | 'directory' | 'port' | 'bind' | 'quiet' | 'listing' | 'index' | 'redirect' | 'dotfiles' | 'cache' | 'immutable'
    | 'compress' | 'watch' | 'ignore' | 'poll' | 'allowedHost' | 'cacheMemory' | 'stallTimeout' | 'cors' | 'header'
    | 'headers' | 'auth'
  >
> & {
  // Features of the CLI, or not built into the library yet: the file's own names.
  spa?: boolean | string;
  cleanUrls?: boolean;
  json?: boolean;
  open?: boolean | string;
  qr?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsPasswordFile?: string;
  https?: boolean;
  http2?: boolean;
  proxy?: Record<string, ProxyRoute>;
};

interface ConvertContext {
  /** The folder of the config file: relative paths in it are relative to it. */
  folder: string;
}

/** One key: its schema fragment (with the description editors show) and what is done after the schema check. */
interface KeySpec<T> {
  schema: JsonSchema;
  /** Checks beyond the schema and conversion; throws a UsageError saying what is wrong. */
  convert?: (value: never, context: ConvertContext) => T;
}

/** A key whose value, once the schema accepts it, is used as it is. */
const plain = <T>(schema: JsonSchema): KeySpec<T> => ({ schema });

/** A key with checks or a conversion; `S` is what the schema guarantees the value to be. */
const converted = <S, T>(schema: JsonSchema, convert: (value: S, context: ConvertContext) => T): KeySpec<T> => ({
  schema,
  convert: convert as (value: never, context: ConvertContext) => T,
});

const flag = (description: string) => plain<boolean>({ type: 'boolean', description });

/** A file path: relative ones are resolved against the config file's folder. */
const filePath = (description: string) =>
  converted<string, string>({ type: 'string', minLength: 1, description }, (value, { folder }) => resolve(folder, value));

const MIB = 1024 * 1024;

export const CONFIG_KEYS: { readonly [K in keyof ConfigOptions]-?: KeySpec<NonNullable<ConfigOptions[K]>> } = {
  directory: filePath('Directory to serve, relative to this file. Flag: [dir], -d, --directory.'),
  port: plain({ type: 'integer', minimum: 0, maximum: 65535, description: 'Port to listen on; 0 picks a free one. Flag: -p, --port.' }),
  bind: plain({ type: 'string', minLength: 1, description: 'Address to bind; 0.0.0.0 or :: expose the server to the network. Flag: -b, --bind.' }),
  quiet: flag('Do not log requests or live-reload changes. Flag: -q, --quiet.'),
  listing: flag('List directories without an index file (false: 404). Flag: --no-listing.'),
  index: converted<string[] | boolean, string[] | false>(
    {
      anyOf: [{ type: 'array', items: { type: 'string', minLength: 1 } }, { type: 'boolean' }],
      description: 'Index file names tried for a folder, in order (default ["index.html", "index.htm"]); false: none. Flags: --index, --no-index.',
    },
    (value) => {
      if (value === true) throw new UsageError('must be a list of file names, or false for none');
      return value;
    },
  ),
  redirect: flag('Redirect a folder asked for without its slash to the slash form (false: 404). Flag: --no-redirect.'),
  dotfiles: flag('Serve dotfiles and dot-directories. Flag: --dotfiles.'),
  cache: plain({ type: 'integer', minimum: 0, maximum: 9999999999, description: 'Cache-Control max-age in seconds (default: no-cache). Flag: --cache.' }),
  immutable: flag('Add "immutable" to Cache-Control (with cache). Flag: --immutable.'),
  compress: flag('Compress responses and serve .br/.gz sidecars. Flag: --no-compress.'),
  watch: flag('Live-reload open pages when files change. Flag: -w, --watch.'),
  ignore: plain({ type: 'array', items: { type: 'string', minLength: 1 }, description: 'With watch, more paths to ignore, .gitignore-style. Flag: --ignore.' }),
  poll: flag('With watch, poll for changes. Flag: --poll.'),
  allowedHost: plain({ type: 'array', items: { type: 'string', minLength: 1 }, description: 'Host names accepted besides localhost while bound to loopback. Flag: --allowed-host.' }),
  cacheMemory: converted<number, number>(
    { type: 'integer', minimum: 0, maximum: Math.floor(Number.MAX_SAFE_INTEGER / MIB), description: 'Memory for cached contents, in MiB (default 64). Flag: --cache-memory.' },
    (mib) => mib * MIB,
  ),
  stallTimeout: plain({ type: 'integer', minimum: 0, maximum: 9999999999, description: 'Seconds a response may wait on a client that takes none of its bytes before it is cut (default 30; 0: never). Flag: --stall-timeout.' }),
  spa: converted<boolean | string, boolean | string>(
    {
      anyOf: [{ type: 'boolean' }, { type: 'string', minLength: 1 }],
      description: 'Single-page app: browser navigations to missing paths get index.html, or this file of the served folder. Flag: -s, --single, --spa [file].',
    },
    (value) => {
      if (typeof value === 'string') fallbackFileSegments(value, 'spa');
      return value;
    },
  ),
  cleanUrls: flag('Serve about.html at /about, and redirect /about.html there. Flag: --clean-urls.'),
  cors: flag('Access-Control-Allow-Origin: * on every response, and answer preflights. Flag: --cors.'),
  header: converted<string[], string[]>(
    { type: 'array', items: { type: 'string' }, description: 'Headers on every response, as "Name: value". Flag: -H, --header.' },
    (lines) => {
      lines.forEach((line, i) => parseHeaderLine(line, `header[${i}]`));
      return lines;
    },
  ),
  headers: converted<ScopedHeadersConfig[], ScopedHeadersConfig[]>(
    {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          source: { type: 'string', minLength: 1, description: 'URL path glob: "/assets/**", "/api/*", "*.js" ("*" within a segment, "**" across segments).' },
          headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Header names and values.' },
        },
        required: ['source', 'headers'],
        additionalProperties: false,
      },
      description: 'Headers for the paths matching each source glob; later rules win over earlier ones and over header.',
    },
    (rules) => {
      createHeaderRules([], rules);
      return rules;
    },
  ),
  auth: converted<string, string>(
    { type: 'string', minLength: 1, description: 'HTTP Basic authentication, "user:password" (or SERVE_DIR_AUTH in the environment). Flag: --auth.' },
    (text) => {
      parseCredentials(text, 'auth');
      return text;
    },
  ),
  json: flag('Print JSON lines on stdout instead of text. Flag: --json.'),
  open: converted<boolean | string, boolean | string>(
    { anyOf: [{ type: 'boolean' }, { type: 'string', minLength: 1 }], description: 'Open the browser once listening, at this path if a string ("/docs/"). Flag: -o, --open [path].' },
    (value) => {
      if (typeof value === 'string' && !value.startsWith('/')) throw new UsageError(`must be a path starting with "/", not ${quote(value)}`);
      return value;
    },
  ),
  qr: flag('With a network bind, show a QR code of the network URL. Flag: --qr.'),
  tlsCert: filePath('TLS certificate chain (PEM), relative to this file. Flag: --tls-cert.'),
  tlsKey: filePath('TLS private key (PEM), relative to this file. Flag: --tls-key.'),
  tlsPasswordFile: filePath('File holding the passphrase of tlsKey, relative to this file. Flag: --tls-password-file.'),
  https: flag('HTTPS with a generated certificate for localhost and this machine. Flag: --https.'),
  http2: flag('Offer HTTP/2 over TLS (default true). Flag: --no-http2.'),
  proxy: converted<Record<string, string | ProxyRoute>, Record<string, ProxyRoute>>(
    {
      type: 'object',
      additionalProperties: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            properties: {
              target: { type: 'string', minLength: 1, description: 'Backend URL, e.g. "http://127.0.0.1:5000".' },
              changeOrigin: { type: 'boolean', description: "Send the backend's host as Host and rewrite its redirects and cookies back." },
              rewrite: {
                type: 'object',
                properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string' } },
                required: ['from', 'to'],
                additionalProperties: false,
                description: 'Replace the path prefix "from" by "to" before forwarding.',
              },
              ws: { type: 'boolean', description: 'Also tunnel WebSocket upgrades (default true).' },
              timeout: { type: 'integer', minimum: 1, maximum: 86400, description: "Seconds to wait for the backend's response headers before answering 504 (default 60)." },
            },
            required: ['target'],
            additionalProperties: false,
          },
        ],
      },
      description: 'Reverse proxy: path prefix -> backend URL, or { target, changeOrigin, rewrite, ws }. Longest prefix wins. Flag: --proxy <prefix>=<url>.',
    },
    (routes) => {
      const normalised: Record<string, ProxyRoute> = {};
      for (const [prefix, route] of Object.entries(routes)) normalised[prefix] = checkProxyRoute(prefix, typeof route === 'string' ? { target: route } : route);
      return normalised;
    },
  ),
};

/** `$schema` is allowed so that editors find the schema; it sets nothing. */
const SCHEMA_KEY = '$schema';

/** The JSON Schema of the config file, generated from CONFIG_KEYS. */
export function configJsonSchema(): Record<string, unknown> {
  const properties: Record<string, JsonSchema> = { [SCHEMA_KEY]: { type: 'string', description: 'The JSON Schema of this file, for editors.' } };
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as Array<[string, KeySpec<unknown>]>) properties[key] = spec.schema;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'serve-dir configuration',
    description: `Settings for serve-dir, read from ${CONFIG_FILE_NAME} in the served folder or the working directory, or from --config <file>. Keys are the flags' names in camelCase; flags override them.`,
    type: 'object',
    properties,
    additionalProperties: false,
  };
}

/**
 * Validate a parsed config value and convert it to options. `file` names the file in errors and
 * its folder anchors relative paths.
 */
export function validateConfig(value: unknown, file: string): ConfigOptions {
  if (!isPlainObject(value)) {
    throw new ConfigError(`${file}: expected an object of settings such as { "port": 8080 }, not ${describeValue(value)}`);
  }
  const keys = Object.keys(CONFIG_KEYS);
  const context: ConvertContext = { folder: dirname(resolve(file)) };
  const options: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === SCHEMA_KEY) continue;
    const spec = Object.hasOwn(CONFIG_KEYS, key) ? (CONFIG_KEYS as Record<string, KeySpec<unknown>>)[key] : undefined;
    if (spec === undefined) throw new ConfigError(`${file}: ${unknownKeyReason(key, keys)}`);
    try {
      checkValue(item, spec.schema, key);
      options[key] = spec.convert === undefined ? item : spec.convert(item as never, context);
    } catch (error) {
      if (error instanceof SchemaViolation) throw new ConfigError(`${file}: ${error.message}`);
      if (error instanceof UsageError) {
        // The checks of header and headers name their own place ("header[2] ...").
        const reason = error.message.replace(/^invalid /, '');
        const own = reason.startsWith(`${key}: `) ? reason.slice(key.length + 2) : reason;
        throw new ConfigError(`${file}: ${own.startsWith(`${key}[`) ? own : `${quote(key)}: ${own}`}`);
      }
      throw error;
    }
  }
  return options as ConfigOptions;
}

/**
 * Parse the text of a config file. A syntax error is reported as `file:line:column: reason`,
 * the form editors and terminals turn into a link. A UTF-8 byte order mark is allowed.
 */
export function parseConfig(text: string, file: string): ConfigOptions {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const found = findJsonSyntaxError(json);
    if (found === undefined) throw new ConfigError(`${file}: invalid JSON: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    throw new ConfigError(`${file}:${found.line}:${found.column}: invalid JSON: ${found.reason}`);
  }
  return validateConfig(value, file);
}

export interface ConfigSearch {
  /** `--config <file>`: must exist. Relative to `cwd`. */
  explicit?: string | undefined;
  /** The served folder as given on the command line (relative to `cwd`), if any. */
  directory?: string | undefined;
  cwd: string;
}

export interface LoadedConfig {
  /** Absolute path of the file read: the server must never serve it. */
  file: string;
  options: ConfigOptions;
}

/**
 * The config file in force: the explicit one, else serve-dir.config.json in the served folder,
 * else in the working directory; undefined when there is none.
 */
export function findConfigFile(search: ConfigSearch): string | undefined {
  if (search.explicit !== undefined) return resolve(search.cwd, search.explicit);
  const candidates = [join(resolve(search.cwd, search.directory ?? '.'), CONFIG_FILE_NAME), join(resolve(search.cwd), CONFIG_FILE_NAME)];
  return candidates.find((candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false; // absent, or the folder is missing: the directory check reports that
    }
  });
}

/** Find, read, parse and validate the config file; undefined when there is none to read. */
export function loadConfig(search: ConfigSearch): LoadedConfig | undefined {
  const file = findConfigFile(search);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'unreadable');
    throw new ConfigError(`config file ${file}: ${why}`);
  }
  return { file, options: parseConfig(text, file) };
}

/**
 * Flags override the config file: each key set in `config` is taken unless the user gave that
 * flag on the command line (`fromCommandLine`, e.g. commander's getOptionValueSource(key) ===
 * 'cli'; a flag's default never beats the file). Lists are replaced, not concatenated, like any
 * other value: `-H` on the command line replaces the file's `header`.
 */
export function mergeWithFlags<T extends object>(config: Partial<T>, flags: T, fromCommandLine: (key: keyof T & string) => boolean): T {
  const merged: T = { ...flags };
  for (const key of Object.keys(config) as Array<keyof T & string>) {
    const value = config[key];
    if (value !== undefined && !fromCommandLine(key)) merged[key] = value as T[keyof T & string];
  }
  return merged;
}
