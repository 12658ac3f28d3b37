/** What `--tls` measures, and the one checked request per target before any load. */
import type { KeyKind } from "../test/support/certificates.ts";
import { LARGE_BYTES, SMALL_BODY } from "./configs.ts";
import { BENCH_HOST } from "./peers.ts";
import type { Scenario } from "./scenarios.ts";

export interface TlsScenario extends Scenario {
  /** wrk on keep-alive connections, or a new connection per request (tls-handshakes.ts). */
  load: "wrk" | "handshakes";
  /** The certificate's key: RSA-2048 or ECDSA P-256. */
  kind: KeyKind;
  /** Whether each new connection offers the session its loop's last one got. */
  resume: boolean;
  /** HAProxy against Mantrid, or Mantrid with many certificates against one. */
  versus: "haproxy" | "many";
}

const text = (body: Uint8Array) => new TextDecoder().decode(body);

function small(
  name: string,
  description: string,
  settings: Pick<TlsScenario, "load" | "kind" | "resume" | "versus">,
): TlsScenario {
  return {
    name,
    description,
    method: "GET",
    path: "/small",
    headers: settings.load === "wrk" ? {} : { Connection: "close" },
    bodyBytes: 0,
    newConnection: settings.load === "handshakes",
    accepts: (status, body) => status === 200 && text(body) === SMALL_BODY,
    ...settings,
  };
}

const fresh = (kind: KeyKind, resume: boolean) =>
  ({ load: "handshakes", kind, resume, versus: "haproxy" }) as const;

/** Every scenario of `--tls`; `many` certificates on the SNI one. */
export function TLS_SCENARIOS(many: number): TlsScenario[] {
  return [
    small("tls-keepalive-small", "GET /small on keep-alive TLS connections (ECDSA)", {
      load: "wrk",
      kind: "ec",
      resume: false,
      versus: "haproxy",
    }),
    {
      ...small("tls-keepalive-100k", "GET /100k on keep-alive TLS connections (ECDSA)", {
        load: "wrk",
        kind: "ec",
        resume: false,
        versus: "haproxy",
      }),
      path: "/100k",
      accepts: (status, body) => status === 200 && body.byteLength === LARGE_BYTES,
    },
    small(
      "tls-new-ec-full",
      "a new connection per request, full handshake, ECDSA",
      fresh("ec", false),
    ),
    small(
      "tls-new-ec-resumed",
      "a new connection per request, session resumed, ECDSA",
      fresh("ec", true),
    ),
    small(
      "tls-new-rsa-full",
      "a new connection per request, full handshake, RSA-2048",
      fresh("rsa", false),
    ),
    small(
      "tls-new-rsa-resumed",
      "a new connection per request, session resumed, RSA-2048",
      fresh("rsa", true),
    ),
    small(`tls-sni-${many}`, `full handshakes, SNI over ${many} certificates against one`, {
      load: "handshakes",
      kind: "ec",
      resume: false,
      versus: "many",
    }),
  ];
}

/** One request of `scenario` over TLS to `port`; throws with what came back if it is wrong. */
export async function checkTlsTarget(port: number, scenario: TlsScenario): Promise<void> {
  const url = `https://127.0.0.1:${port}${scenario.path}`;
  let status: number;
  let received: Uint8Array;
  try {
    const response = await fetch(url, {
      headers: { ...scenario.headers, Host: BENCH_HOST },
      tls: { rejectUnauthorized: false },
      signal: AbortSignal.timeout(10_000),
    });
    status = response.status;
    received = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`${url} failed ${scenario.name}: ${(error as Error).message}`);
  }
  if (!scenario.accepts(status, received)) {
    const preview = new TextDecoder().decode(received.subarray(0, 200));
    throw new Error(`${url} answered ${scenario.name} wrongly: ${status}: ${preview}`);
  }
}
