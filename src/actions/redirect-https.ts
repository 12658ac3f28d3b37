/**
 * `redirect_https`, an option of any action: a request that came over plain
 * HTTP is answered 308 with the same host and target on https, and only one
 * that came over https runs the rule's action. On a `bind_internal` listener
 * the protocol is what X-Forwarded-Proto said. The port is that of the first
 * `bind_tls` listener as bound, left out when it is 443 (and when there is no
 * such listener: a TLS terminator in front then serves 443).
 */
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Action } from "./action.ts";
import { pathOf } from "./redirect.ts";

/** Where https is served, as bound; shared by every rule, set once the listeners are up. */
export interface HttpsPort {
  port: number;
}

export class HttpsRedirect implements Action {
  readonly name: string;

  constructor(
    private readonly action: Action,
    private readonly https: HttpsPort,
  ) {
    this.name = action.name;
  }

  run(exchange: Exchange): void {
    if (exchange.protocol === "https") return this.action.run(exchange);
    const port = this.https.port;
    const authority = port === 443 ? exchange.host : `${exchange.host}:${port}`;
    const location = `https://${authority}${pathOf(exchange.head.target(exchange.headBytes))}`;
    exchange.respond(
      simpleResponse(308, [["Location", location]], "", exchange.keepAlive, exchange.isHeadRequest),
    );
  }
}
