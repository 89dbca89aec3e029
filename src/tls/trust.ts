/**
 * How a user trusts the `--https` certificate, so browsers stop warning.
 *
 * The certificate is a self-signed leaf (see ./certificate.ts), trusted as a
 * server certificate, not as a CA. That matters for the commands: NSS needs
 * the "trusted peer" flag `P`; with the CA flag `C` (what mkcert uses for its
 * CA) Chromium answers ERR_CERT_INVALID.
 *
 * - Linux, Chrome and Chromium (the NSS database in ~/.pki/nssdb; certutil is
 *   in Debian's and Ubuntu's `libnss3-tools`, Fedora's `nss-tools`); restart the browser:
 *     certutil -d sql:$HOME/.pki/nssdb -A -t "P,," -n serve-dir -i <certificate.pem>
 *   Checked by test/tls/trust-browser.test.ts with Debian's Chromium.
 * - Linux, Firefox keeps one database per profile: the same command with
 *   `-d sql:<profile folder>` (about:support shows it), or choose "Accept the
 *   Risk and Continue" on the warning page once.
 * - Linux, command-line tools that use the system's OpenSSL store (curl, wget,
 *   Python) on Debian and Ubuntu:
 *     sudo cp <certificate.pem> /usr/local/share/ca-certificates/serve-dir.crt && sudo update-ca-certificates
 * - macOS, Safari and Chrome (the login keychain; asks for the user's password):
 *     security add-trusted-cert -p ssl -k ~/Library/Keychains/login.keychain-db <certificate.pem>
 * - Windows, Edge and Chrome (the user's Trusted Root store; Windows asks to confirm):
 *     certutil -addstore -user Root <certificate.pem>
 * - Node.js clients: NODE_EXTRA_CA_CERTS=<certificate.pem>; curl: --cacert <certificate.pem>.
 *
 * A new certificate (renewed, or made for new addresses) must be trusted
 * again; the old entry can then be deleted (`certutil -D -n serve-dir`,
 * Keychain Access, `certutil -delstore -user Root <serial>`).
 */

/** The one command that trusts `certPath` for this platform's main browsers, for the banner. */
export function trustCommand(certPath: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return `certutil -addstore -user Root "${certPath}"`;
  const quoted = `'${certPath.replaceAll("'", `'\\''`)}'`;
  if (platform === 'darwin') return `security add-trusted-cert -p ssl -k ~/Library/Keychains/login.keychain-db ${quoted}`;
  return `certutil -d sql:$HOME/.pki/nssdb -A -t "P,," -n serve-dir -i ${quoted}`;
}
