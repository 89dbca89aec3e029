/**
 * The options' TLS choice, made into a certificate and key for the server:
 * files given (`tlsCert`, `tlsKey`, `tlsPasswordFile`), or the `https`
 * certificate kept in the user's cache, or none (plain HTTP).
 */
import { UsageError } from '../options.js';
import { loadOrCreateCertificate } from './cache.js';
import { loadTlsFiles, tlsFilesFromFlags } from './load.js';
import { defaultCertificateNames } from './names.js';

export interface ServerCredentials {
  cert: string;
  key: string;
  fingerprint256: string;
  /** Set when `https` made a new certificate this start: the file a user trusts. */
  createdPath?: string;
}

export async function serverCredentials(options: {
  tlsCert?: string;
  tlsKey?: string;
  tlsPasswordFile?: string;
  https?: boolean;
  allowedHost?: readonly string[];
}): Promise<ServerCredentials | undefined> {
  const files = tlsFilesFromFlags(options);
  if (files !== undefined) {
    if (options.https === true) throw new UsageError('--https makes its own certificate: give it or --tls-cert, not both');
    const { cert, key, fingerprint256 } = await loadTlsFiles(files);
    return { cert, key, fingerprint256 };
  }
  if (options.https !== true) return undefined;
  const names = [...new Set([...defaultCertificateNames(), ...(options.allowedHost ?? [])])];
  const made = await loadOrCreateCertificate({ names });
  return { cert: made.cert, key: made.key, fingerprint256: made.fingerprint256, ...(made.created ? { createdPath: made.path } : {}) };
}
