/**
 * Real TLS clients whose first bytes the ClientHello reader's tests read:
 * node:tls, `openssl s_client` and curl, with and without SNI and ALPN, and
 * what each of them asks for.
 */
import { command, type Launch, nodeTls } from "./hello-capture.ts";

export interface RealClient {
  readonly title: string;
  readonly launch: Launch;
  readonly servername: string | null;
  readonly protocols: string[];
  /** The name as it goes on the wire, when not in lower case already. */
  readonly sentAs?: string;
}

const openssl = (...args: string[]) =>
  command(["openssl", "s_client", "-connect", "127.0.0.1:{port}", ...args]);
const curl = (name: string, ...args: string[]) =>
  command([
    "curl",
    "-sk",
    "--max-time",
    "10",
    ...args,
    "--resolve",
    `${name}:{port}:127.0.0.1`,
    `https://${name}:{port}/`,
  ]);

export const CLIENTS: RealClient[] = [
  {
    title: "node:tls offering acme-tls/1",
    launch: nodeTls({ servername: "Acme.Example.ORG", ALPNProtocols: ["acme-tls/1"] }),
    servername: "acme.example.org",
    protocols: ["acme-tls/1"],
  },
  {
    title: "node:tls offering h2 and http/1.1",
    launch: nodeTls({ servername: "www.example.com", ALPNProtocols: ["h2", "http/1.1"] }),
    servername: "www.example.com",
    protocols: ["h2", "http/1.1"],
  },
  {
    title: "node:tls without ALPN",
    launch: nodeTls({ servername: "plain.test" }),
    servername: "plain.test",
    protocols: [],
  },
  {
    title: "node:tls to an address, so without SNI",
    launch: nodeTls({ ALPNProtocols: ["h2"] }),
    servername: null,
    protocols: ["h2"],
  },
  {
    title: "openssl s_client with a mixed-case name",
    launch: openssl("-servername", "Shop.Example.NET", "-alpn", "acme-tls/1,http/1.1"),
    servername: "shop.example.net",
    protocols: ["acme-tls/1", "http/1.1"],
    sentAs: "Shop.Example.NET",
  },
  {
    title: "openssl s_client in TLS 1.2",
    launch: openssl("-tls1_2", "-servername", "old.test", "-alpn", "a,bb,ccc"),
    servername: "old.test",
    protocols: ["a", "bb", "ccc"],
  },
  {
    title: "openssl s_client without SNI",
    launch: openssl("-noservername", "-alpn", "acme-tls/1"),
    servername: null,
    protocols: ["acme-tls/1"],
  },
  {
    title: "curl",
    launch: curl("curl.example.com"),
    servername: "curl.example.com",
    protocols: ["h2", "http/1.1"],
  },
  {
    title: "curl in HTTP/1.1",
    launch: curl("one.test", "--http1.1"),
    servername: "one.test",
    protocols: ["http/1.1"],
  },
  {
    title: "curl without ALPN",
    launch: curl("bare.test", "--no-alpn"),
    servername: "bare.test",
    protocols: [],
  },
];
