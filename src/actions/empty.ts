/** `empty`: a status line and no body. */
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { Action } from "./action.ts";

export class EmptyAction implements Action {
  readonly name = "empty";
  /** Indexed by keep-alive × 2 + HEAD: the four answers are built once. */
  private readonly responses: Buffer[];

  constructor(code: number) {
    this.responses = [false, true].flatMap((keepAlive) =>
      [false, true].map((head) => simpleResponse(code, [], "", keepAlive, head)),
    );
  }

  run(exchange: Exchange): void {
    exchange.respond(
      this.responses[(exchange.keepAlive ? 2 : 0) + (exchange.isHeadRequest ? 1 : 0)]!,
    );
  }
}
