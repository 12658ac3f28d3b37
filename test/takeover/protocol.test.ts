/** The takeover messages: checked on arrival, with a reason for anything else. */
import { expect, test } from "bun:test";
import { type Message, parseMessage, takeoverSocketPath } from "../../src/takeover/protocol.ts";

test("a well-formed message parses to itself", () => {
  const bye: Message = {
    type: "bye",
    counters: { "a.test": { completed_requests: 3, bytes_sent: 10, bytes_received: 5 } },
  };
  expect(parseMessage(JSON.stringify(bye))).toEqual(bye);
  const changes: Message = {
    type: "changes",
    changes: [
      { kind: "set", key: "a.test", rule: ["empty", { code: 204 }, false] },
      { kind: "backend", key: "127.0.0.1:80", admin: "draining" },
    ],
  };
  expect(parseMessage(JSON.stringify(changes))).toEqual(changes);
});

test("anything else is a reason, naming the message when it has a type", () => {
  expect(parseMessage("{")).toBe("a line that is not JSON");
  expect(parseMessage('{"type":"hello","pid":0,"version":"1"}')).toStartWith(
    'a malformed "hello" message',
  );
  expect(parseMessage('{"type":"bye","counters":{"a":{"completed_requests":-1}}}')).toStartWith(
    'a malformed "bye" message',
  );
  expect(parseMessage('{"type":"launch"}')).toStartWith('a malformed "launch" message');
  expect(parseMessage("[]")).toStartWith("a malformed message");
});

test("the socket lives beside the state file", () => {
  expect(takeoverSocketPath("/var/lib/mantrid/state.json")).toBe(
    "/var/lib/mantrid/state.json.takeover.sock",
  );
});
