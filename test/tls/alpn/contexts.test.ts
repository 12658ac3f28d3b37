/** Which handshakes get a tls-alpn-01 certificate, and when listeners are told to read hellos. */
import { expect, test } from "bun:test";
import "../../support/quiet.ts";
import { alpnCertificate } from "../../../src/tls/alpn/certificate.ts";
import { AlpnContexts } from "../../../src/tls/alpn/contexts.ts";
import { ChallengeBook } from "../../../src/tls/challenges.ts";
import { stderrOf } from "../../support/stderr.ts";

const answer = alpnCertificate("a.test", "token.thumbprint");

test("only a hello for a pending name that offers acme-tls/1 gets a context", () => {
  const book = new ChallengeBook();
  const contexts = new AlpnContexts(book);
  book.setAlpn("a.test", answer);
  expect(contexts.contextFor({ servername: "a.test", protocols: ["acme-tls/1"] })).not.toBeNull();
  expect(
    contexts.contextFor({ servername: "a.test", protocols: ["http/1.1", "acme-tls/1"] }),
  ).not.toBeNull();
  expect(contexts.contextFor({ servername: "a.test", protocols: ["http/1.1"] })).toBeNull();
  expect(contexts.contextFor({ servername: "a.test", protocols: [] })).toBeNull();
  expect(contexts.contextFor({ servername: "b.test", protocols: ["acme-tls/1"] })).toBeNull();
  expect(contexts.contextFor({ servername: null, protocols: ["acme-tls/1"] })).toBeNull();
  book.setAlpn("a.test", null);
  expect(contexts.contextFor({ servername: "a.test", protocols: ["acme-tls/1"] })).toBeNull();
});

test("listeners hear of the first pending check and of the last one ending, once each", () => {
  const book = new ChallengeBook();
  book.setAlpn("early.test", answer);
  const contexts = new AlpnContexts(book);
  expect(contexts.pending).toBe(true);
  const heard: boolean[] = [];
  contexts.onPendingChange((pending) => heard.push(pending));
  book.setAlpn("a.test", answer);
  book.setAlpn("early.test", null);
  book.setAlpn("a.test", null);
  book.setAlpn("a.test", null);
  book.setAlpn("b.test", answer);
  expect(heard).toEqual([false, true]);
  contexts.stop();
  book.setAlpn("b.test", null);
  expect(heard).toEqual([false, true]);
});

test("a certificate TLS cannot load is said once and leaves nothing pending", () => {
  const book = new ChallengeBook();
  const contexts = new AlpnContexts(book);
  const said = stderrOf(() => book.setAlpn("a.test", { cert: "garbage", key: "garbage" }));
  expect(said).toContain("acme: the tls-alpn-01 certificate of a.test cannot be served:");
  expect(said).not.toContain("garbage");
  expect(contexts.pending).toBe(false);
});
