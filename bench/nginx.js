// nginx as the reference a static server is measured against: one worker, sendfile, an
// autoindex with exact sizes, no access log. Everything it writes stays in one temporary directory.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SYSTEM_MIME_TYPES = '/etc/nginx/mime.types';

/**
 * Writes an nginx.conf serving `root` on 127.0.0.1:port and returns its path. With `tls`,
 * over HTTPS with HTTP/2 (`http2 on` from nginx 1.25.1, `listen ... ssl http2` before).
 * @param {string} dir  a directory of its own for the config, pid file, logs and temp paths
 * @param {string} root
 * @param {number} port
 * @param {{ cert: string, key: string, version: string }} [tls]
 */
export function writeNginxConfig(dir, root, port, tls) {
  mkdirSync(dir, { recursive: true });
  const types = existsSync(SYSTEM_MIME_TYPES)
    ? `include ${SYSTEM_MIME_TYPES};`
    : 'types { text/html html; text/plain txt; application/javascript js; }';
  const config = `
worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')};
events { worker_connections 4096; }
http {
  ${types}
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  # Node servers keep a connection open for any number of requests; nginx closes it
  # after 1000 by default, which would cost it reconnections the others do not pay.
  keepalive_requests 1000000;
  ${tls ? 'http2_max_requests 1000000;' : ''}
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    ${tls ? tlsListen(port, tls) : `listen 127.0.0.1:${port};`}
    root ${root};
    autoindex on;
    autoindex_exact_size on;
  }
}
`;
  const path = join(dir, `nginx-${port}.conf`);
  writeFileSync(path, config);
  return path;
}

/** @param {number} port @param {{ cert: string, key: string, version: string }} tls */
function tlsListen(port, tls) {
  const [major = 0, minor = 0, patch = 0] = tls.version.split('.').map(Number);
  const modern = major > 1 || minor > 25 || (minor === 25 && patch >= 1);
  const listen = modern ? `listen 127.0.0.1:${port} ssl;\n    http2 on;` : `listen 127.0.0.1:${port} ssl http2;`;
  return `${listen}\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};`;
}
