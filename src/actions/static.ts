/** `static`: a whole page from static_dir or the built-ins; also the `unknown` and `no_hosts` answers. */
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Page } from "../static/pages.ts";
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
