/** The configuration files of the peers: the nginx backend, HAProxy and nginx as a proxy. */

/** Size of the `/upload` request bodies, and the most a backend or proxy accepts. */
export const UPLOAD_BYTES = 1024 * 1024;
export const SMALL_BODY = "hello\n";
export const LARGE_BYTES = 100 * 1024;
/** Size of the `/api` request bodies: a typical JSON call. */
export const API_BODY_BYTES = 1024;

/** Lines shared by both nginx configs: one worker, logs in `dir`, temp files in `dir`. */
function nginxMain(dir: string, name: string): string {
  // As root, nginx would hand its worker to "nobody", who cannot read the temp folder.
  const user = process.getuid?.() === 0 ? "user root root;\n" : "";
  return `${user}daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events {
  worker_connections 8192;
  multi_accept on;
}
`;
}

function nginxHttpCommon(dir: string, name: string): string {
  return `  access_log off;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  tcp_nodelay on;
  client_max_body_size 2m;
`;
}

/**
 * The backend: `/small` (6 bytes), `/100k` (100 KiB) from files under
 * `${dir}/www`; `POST /upload`, whose body nginx reads in full (and drops)
 * before it answers "ok"; and `POST /api`, which answers "ok" at once and
 * drops its small body.
 */
export function nginxBackendConfig(dir: string, port: number, extraPorts: number[] = []): string {
  const extra = extraPorts.map((p) => `\n    listen 127.0.0.1:${p} backlog=4096;`).join("");
  return `${nginxMain(dir, "backend")}
http {
${nginxHttpCommon(dir, "backend")}  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port} backlog=4096;${extra}
    root ${dir}/www;
    location = /small { default_type text/plain; }
    location = /100k { }
    # A bare "return" would answer at once and discard the body afterwards; the
    # proxy module reads the whole body (into memory) before it asks /sink.
    location = /upload {
      client_body_buffer_size 2m;
      proxy_pass http://self/sink;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
    }
    location = /sink {
      return 200 "ok\\n";
    }
    location = /api {
      default_type text/plain;
      return 200 "ok\\n";
    }
  }
  upstream self {
    server 127.0.0.1:${port};
    keepalive 16;
  }
}
`;
}

/** nginx as a reverse proxy: pooled keep-alive connections to the backend. */
export function nginxProxyConfig(dir: string, port: number, backendPort: number): string {
  return `${nginxMain(dir, "nginx-proxy")}
http {
${nginxHttpCommon(dir, "nginx-proxy")}  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 256;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      # The forwarding headers Mantrid sends on a bind listener, so all do the same work.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Stream request bodies like the other proxies, and keep responses in memory.
      proxy_request_buffering off;
      proxy_buffer_size 16k;
      proxy_buffers 16 16k;
      proxy_busy_buffers_size 32k;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** HAProxy's `maxconn` unless a mode needs more (`--idle N` asks for N and some). */
export const HAPROXY_MAXCONN = 9000;

/** A TLS listener of HAProxy: `crt` holds the chain and the key. */
export interface TlsBind {
  port: number;
  crt: string;
}

/**
 * HAProxy in HTTP mode, one thread, reusing backend connections, adding the
 * same X-Forwarded-For and X-Forwarded-Proto as Mantrid. Its buffers
 * stay at their default (tune.bufsize 16k), as nginx's request-body buffer does.
 * `tls` adds TLS listeners beside the plain one (`bind ... ssl crt`).
 */
export function haproxyConfig(
  port: number,
  backendPort: number,
  maxconn = HAPROXY_MAXCONN,
  tls: TlsBind[] = [],
): string {
  const tlsBinds = tls
    .map((bind) => `  bind 127.0.0.1:${bind.port} ssl crt ${bind.crt} alpn http/1.1\n`)
    .join("");
  // HAProxy asks for two files per connection (client and server side) and by
  // default refuses to start when the hard limit is lower. Idle clients hold
  // one file each and share a few server connections, so a larger maxconn may
  // start with the files there are.
  const limits = maxconn > HAPROXY_MAXCONN ? "  no strict-limits\n" : "";
  return `global
  maxconn ${maxconn}
${limits}  nbthread 1

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  timeout http-request 10s

frontend bench
  bind 127.0.0.1:${port}
${tlsBinds}  default_backend nginx

backend nginx
  # The forwarding headers Mantrid sends on a bind listener, so all do the same work.
  option forwardfor
  http-request set-header X-Forwarded-Proto http
${tls.length > 0 ? "  http-request set-header X-Forwarded-Proto https if { ssl_fc }\n" : ""}  server backend 127.0.0.1:${backendPort}
`;
}
