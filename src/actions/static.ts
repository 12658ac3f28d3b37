/** `static`: a whole page from static_dir or the built-ins; also the `unknown` and `no_hosts` answers. */
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Page, PageStore } from "../static/pages.ts";
import type { Action } from "./action.ts";

export class StaticAction implements Action {
  readonly name = "static";

  constructor(
    private readonly page: Page | null,
    private readonly type: string,
  ) {}

  run(exchange: Exchange): void {
    exchange.respond(
      this.page
        ? this.page.response(exchange.keepAlive, exchange.isHeadRequest)
        : simpleResponse(
            500,
            [["Content-Type", "text/plain; charset=utf-8"]],
            `No static page "${this.type}": add ${this.type}.http to the static folder.\n`,
            exchange.keepAlive,
            exchange.isHeadRequest,
          ),
    );
  }
}

/** The answers for an unknown hostname and for a table with no rules; one of each per data plane. */
export interface BuiltinAnswers {
  readonly unknown: Action;
  readonly noHosts: Action;
}

export function builtinAnswers(pages: PageStore): BuiltinAnswers {
  return {
    unknown: new StaticAction(pages.builtin("unknown"), "unknown"),
    noHosts: new StaticAction(pages.builtin("no-hosts"), "no-hosts"),
  };
}
