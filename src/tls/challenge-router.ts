/**
 * Plain listeners answer ACME http-01 challenges before any rule is looked up:
 * `GET /.well-known/acme-challenge/<token>` gets its key authorization as
 * text. With no challenge pending, a request costs one look at the book.
 */
import { METHOD_GET, METHOD_HEAD } from "../http/request-line.ts";
import { simpleResponse } from "../http/response-writer.ts";
import type { Exchange } from "../proxy/exchange.ts";
import type { RequestRouter } from "../proxy/listener-context.ts";
import type { ChallengeBook } from "./challenges.ts";

const TEXT: [string, string][] = [["Content-Type", "text/plain"]];

export class ChallengeRouter implements RequestRouter {
  constructor(
    private readonly book: ChallengeBook,
    private readonly next: RequestRouter,
  ) {}

  dispatch(exchange: Exchange): void {
    if (!this.book.empty) {
      const method = exchange.head.methodId;
      if (method === METHOD_GET || method === METHOD_HEAD) {
        const answer = this.book.answer(exchange.head.target(exchange.headBytes));
        if (answer !== null) {
          const head = method === METHOD_HEAD;
          return exchange.respond(simpleResponse(200, TEXT, answer, exchange.keepAlive, head));
        }
      }
    }
    this.next.dispatch(exchange);
  }
}
