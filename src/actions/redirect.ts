/**
 * `redirect`: 302 to `redirect_to` followed by the request's path. Without a
 * scheme in `redirect_to`, the request's own protocol picks http or https (on a
 * `bind_internal` listener that is what X-Forwarded-Proto said), as the original did.
 */
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Action } from "./action.ts";

export class RedirectAction implements Action {
  readonly name = "redirect";
  private readonly base: string;
  private readonly hasScheme: boolean;

  constructor(redirectTo: string) {
    this.hasScheme = redirectTo.includes("://");
    // The request path starts with "/", so one trailing slash here would double it.
    this.base = redirectTo.endsWith("/") ? redirectTo.slice(0, -1) : redirectTo;
  }

  run(exchange: Exchange): void {
    const location = `${this.hasScheme ? "" : `${exchange.protocol}://`}${this.base}${pathOf(
      exchange.head.target(exchange.headBytes),
    )}`;
    exchange.respond(
      simpleResponse(302, [["Location", location]], "", exchange.keepAlive, exchange.isHeadRequest),
    );
  }
}

/** The path and query of a request target (absolute-form targets carry a scheme and host). */
export function pathOf(target: string): string {
  if (target.startsWith("/")) return target;
  const scheme = target.indexOf("://");
  if (scheme < 0) return "/";
  const slash = target.indexOf("/", scheme + 3);
  return slash < 0 ? "/" : target.slice(slash);
}
