/** The response side of a forward, on bytes: what reaches the client and what the relay reports. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/http/limits.ts";
import {
  AWAITING_HEAD,
  BAD_BODY,
  BAD_HEAD,
  CLIENT_FULL,
  COMPLETE,
  COMPLETE_WITH_EXTRA,
  FLOWING,
  Relay,
  TUNNEL,
} from "../../src/proxy/relay.ts";
import { FakeExchange } from "../support/fake-exchange.ts";

const GET = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
const bytes = (text: string) => Buffer.from(text, "latin1");

function relayFor(request = GET): { relay: Relay; exchange: FakeExchange } {
  const relay = new Relay(DEFAULT_LIMITS);
  relay.reset();
  return { relay, exchange: new FakeExchange(request) };
}

describe("a final response", () => {
  test("head and body in one read: one write, hop-by-hop lines gone, COMPLETE", () => {
    const { relay, exchange } = relayFor();
    const step = relay.receive(
      bytes(
        "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nContent-Length: 2\r\n\r\nhi",
      ),
      exchange,
    );
    expect(step).toBe(COMPLETE);
    expect(exchange.sent).toEqual(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"]);
    expect(relay.backendReusable).toBe(true);
    expect(relay.clientKeepAlive).toBe(true);
  });

  test("a head in two reads waits, then the body streams until its length", () => {
    const { relay, exchange } = relayFor();
    expect(relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Le"), exchange)).toBe(AWAITING_HEAD);
    expect(exchange.sent).toEqual([]);
    expect(relay.receive(bytes("ngth: 6\r\n\r\nab"), exchange)).toBe(FLOWING);
    expect(relay.awaitingHead).toBe(false);
    expect(relay.receive(bytes("cdef"), exchange)).toBe(COMPLETE);
    expect(exchange.sent.join("")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef");
  });

  test("a client socket that is full is reported, so the backend is paused", () => {
    const { relay, exchange } = relayFor();
    exchange.sendAccepts = false;
    expect(relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), exchange)).toBe(
      CLIENT_FULL,
    );
  });

  test("bytes after the end of the body: COMPLETE_WITH_EXTRA, and the extra never reaches the client", () => {
    const { relay, exchange } = relayFor();
    const step = relay.receive(
      bytes("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
      exchange,
    );
    expect(step).toBe(COMPLETE_WITH_EXTRA);
    expect(exchange.output).toBe("HTTP/1.1 204 No Content\r\n\r\n");
  });

  test("a body until close: the client connection is not kept, nor the backend's", () => {
    const { relay, exchange } = relayFor();
    expect(relay.receive(bytes("HTTP/1.1 200 OK\r\n\r\nstream"), exchange)).toBe(FLOWING);
    expect(relay.endsAtClose).toBe(true);
    expect(relay.clientKeepAlive).toBe(false);
    expect(relay.backendReusable).toBe(false);
    expect(exchange.sent[0]).toContain("Connection: close\r\n");
  });

  test("the client's wish to close is said in the head", () => {
    const { relay, exchange } = relayFor(
      "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
    );
    exchange.keepAlive = false;
    relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), exchange);
    expect(exchange.sent).toEqual([
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ]);
    expect(relay.clientKeepAlive).toBe(false);
  });

  test("an HTTP/1.0 client that keeps the connection is told so", () => {
    const { relay, exchange } = relayFor(
      "GET / HTTP/1.0\r\nHost: a.test\r\nConnection: keep-alive\r\n\r\n",
    );
    relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), exchange);
    expect(exchange.sent[0]).toContain("Connection: keep-alive\r\n");
  });

  test("a chunked body streams to its last chunk", () => {
    const { relay, exchange } = relayFor();
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(relay.receive(bytes(`${head}3\r\nabc\r\n`), exchange)).toBe(FLOWING);
    expect(relay.receive(bytes("0\r\n\r\n"), exchange)).toBe(COMPLETE);
    expect(exchange.output).toBe(`${head}3\r\nabc\r\n0\r\n\r\n`);
  });

  test("a malformed chunked body after the head: BAD_BODY", () => {
    const { relay, exchange } = relayFor();
    relay.receive(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), exchange);
    expect(relay.receive(bytes("zz\r\n"), exchange)).toBe(BAD_BODY);
  });

  test("HEAD: the response has no body whatever its Content-Length", () => {
    const { relay, exchange } = relayFor("HEAD / HTTP/1.1\r\nHost: a.test\r\n\r\n");
    expect(relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), exchange)).toBe(
      COMPLETE,
    );
  });
});

describe("heads that are not a plain final response", () => {
  test("an interim 100 Continue passes through as it is, the final head follows", () => {
    const { relay, exchange } = relayFor();
    expect(relay.receive(bytes("HTTP/1.1 100 Continue\r\n\r\n"), exchange)).toBe(AWAITING_HEAD);
    expect(relay.started).toBe(true);
    expect(relay.awaitingHead).toBe(true);
    expect(relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), exchange)).toBe(
      COMPLETE,
    );
    expect(exchange.sent[0]).toBe("HTTP/1.1 100 Continue\r\n\r\n");
  });

  test("a malformed head: BAD_HEAD, nothing sent", () => {
    const { relay, exchange } = relayFor();
    expect(relay.receive(bytes("HTTP/1.1 2OO OK\r\n\r\n"), exchange)).toBe(BAD_HEAD);
    expect(exchange.sent).toEqual([]);
    expect(relay.started).toBe(false);
  });

  test("101 to a request that did not ask to upgrade: BAD_HEAD", () => {
    const { relay, exchange } = relayFor();
    expect(relay.receive(bytes("HTTP/1.1 101 Switching Protocols\r\n\r\n"), exchange)).toBe(
      BAD_HEAD,
    );
  });

  test("101 to an upgrade: TUNNEL, with the bytes behind the head", () => {
    const { relay, exchange } = relayFor(
      "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    const step = relay.receive(
      bytes(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframe",
      ),
      exchange,
    );
    expect(step).toBe(TUNNEL);
    expect(exchange.output).toBe(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nframe",
    );
  });

  test("2xx to CONNECT: TUNNEL", () => {
    const { relay, exchange } = relayFor("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n");
    expect(relay.receive(bytes("HTTP/1.1 200 Connection established\r\n\r\n"), exchange)).toBe(
      TUNNEL,
    );
  });

  test("reset() forgets a head left half-read", () => {
    const { relay, exchange } = relayFor();
    relay.receive(bytes("HTTP/1.1 200 OK\r\nContent-"), exchange);
    relay.reset();
    expect(relay.receive(bytes("HTTP/1.1 204 No Content\r\n\r\n"), exchange)).toBe(COMPLETE);
    expect(exchange.output).toBe("HTTP/1.1 204 No Content\r\n\r\n");
  });
});
