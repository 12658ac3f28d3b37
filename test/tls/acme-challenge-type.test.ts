/** Which check the CA is asked for, by `acme_challenge` and the listeners there are. */
import { expect, test } from "bun:test";
import { parseAddress } from "../../src/config/address.ts";
import { type AcmeChallenge, DEFAULTS } from "../../src/config/config.ts";
import { challengeTypeOf } from "../../src/tls/acme/manager.ts";

const ADDRESS = [parseAddress("127.0.0.1:0")];

function typeOf(acmeChallenge: AcmeChallenge, plain: boolean, tls: boolean) {
  return challengeTypeOf({
    ...DEFAULTS,
    acmeChallenge,
    bind: plain ? ADDRESS : [],
    bindTls: tls ? ADDRESS : [],
  });
}

test.each([
  // acme_challenge, bind, bind_tls, chosen
  ["auto", true, true, "http-01"],
  ["auto", true, false, "http-01"],
  ["auto", false, true, "tls-alpn-01"],
  ["auto", false, false, null],
  ["http-01", true, true, "http-01"],
  ["http-01", false, true, null],
  ["tls-alpn-01", true, true, "tls-alpn-01"],
  ["tls-alpn-01", true, false, null],
] as const)("%s with bind %p and bind_tls %p: %p", (choice, plain, tls, chosen) => {
  expect(typeOf(choice, plain, tls)).toBe(chosen);
});

test("the default is auto", () => {
  expect(DEFAULTS.acmeChallenge).toBe("auto");
});
