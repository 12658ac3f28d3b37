// Property tests. FUZZ_RUNS sets the number of cases per property (default 2000).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ChunkedFramer } from "../../src/http/chunked.ts";
import {
  E_CONNECT_WITH_BODY,
  errorStatus,
  LOWEST_ERROR,
  NEED_MORE,
} from "../../src/http/errors.ts";
import type { MessageHead } from "../../src/http/head-fields.ts";
import type { FullParse } from "../../src/http/head-scan.ts";
import { DEFAULT_LIMITS, type HeadLimits } from "../../src/http/limits.ts";
import { parseRequestHead, RequestHead } from "../../src/http/request-head.ts";
import { parseResponseHead, ResponseHead } from "../../src/http/response-head.ts";
import { clientResponseHead, clientResponseHeadInPlace } from "../../src/proxy/forward-head.ts";
import {
  chunkedBodyArb,
  connectArb,
  cutPoints,
  cutsArb,
  hopByHopResponseArb,
  httpishBytes,
  mutate,
  mutationsArb,
  requestModel,
  responseArb,
  responseOwsArb,
  serialise,
} from "./arbitraries.ts";
import { enc, snapshotRequest, snapshotResponse } from "./helpers.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
// Generous: a few ms per case on a slow machine, never less than a minute.
const TIMEOUT = 60_000 + RUNS * 5;
const params = { numRuns: RUNS };
const SMALL: HeadLimits = { maxRequestLine: 48, maxHeadSize: 160, maxHeaders: 6 };

function known(r: number, len: number): boolean {
  return (
    r === NEED_MORE || (r > 0 && r <= len) || (r < 0 && r >= LOWEST_ERROR && Number.isInteger(r))
  );
}

/** Parses buf through growing prefixes ending at `cuts`, as reads would deliver it. */
function trickle<H extends MessageHead>(
  parse: FullParse<H>,
  head: H,
  buf: Uint8Array,
  cuts: number[],
  limits: HeadLimits,
): number {
  for (const k of cuts) {
    const r = parse(buf, 0, k, head, limits);
    if (r !== NEED_MORE) return r;
  }
  return parse(buf, 0, buf.length, head, limits);
}

/** Incremental parsing agrees with one-shot parsing on any input. */
function checkConsistent(buf: Buffer, cuts: number[], limits: HeadLimits): void {
  const one = new RequestHead();
  const r1 = parseRequestHead(buf, 0, buf.length, one, limits);
  expect(known(r1, buf.length)).toBe(true);
  const inc = new RequestHead();
  const r2 = trickle(parseRequestHead, inc, buf, cuts, limits);
  expect(known(r2, buf.length)).toBe(true);
  if (r1 > 0) {
    expect(r2).toBe(r1);
    expect(snapshotRequest(buf, inc)).toEqual(snapshotRequest(buf, one));
  } else if (r1 === NEED_MORE) expect(r2).toBe(NEED_MORE);
  else expect(r2 <= 0).toBe(true);

  const rh1 = new ResponseHead();
  const s1 = parseResponseHead(buf, 0, buf.length, rh1, limits);
  expect(known(s1, buf.length)).toBe(true);
  const rh2 = new ResponseHead();
  const s2 = trickle(parseResponseHead, rh2, buf, cuts, limits);
  if (s1 > 0) {
    expect(s2).toBe(s1);
    expect(snapshotResponse(buf, rh2)).toEqual(snapshotResponse(buf, rh1));
  } else if (s1 === NEED_MORE) expect(s2).toBe(NEED_MORE);
  else expect(s2 <= 0).toBe(true);

  const framer = new ChunkedFramer();
  let at = 0;
  for (const k of [...cuts, buf.length]) {
    if (k < at) continue;
    const n = framer.feed(buf, at, k);
    expect(n === -1 || (n >= 0 && n <= k - at)).toBe(true);
    if (n < 0 || framer.done) break;
    at = k;
  }
}

describe("fuzz", () => {
  test(
    "random bytes: no throw, known results, incremental agrees",
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
            httpishBytes,
          ),
          cutsArb,
          (buf, raw) => {
            const cuts = cutPoints(raw, buf.length);
            checkConsistent(buf, cuts, DEFAULT_LIMITS);
            checkConsistent(buf, cuts, SMALL);
          },
        ),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "mutated valid requests: no throw, known results, incremental agrees",
    () => {
      fc.assert(
        fc.property(requestModel, mutationsArb, cutsArb, (m, muts, raw) => {
          const buf = mutate(enc(serialise(m)), muts);
          const cuts = cutPoints(raw, buf.length);
          checkConsistent(buf, cuts, DEFAULT_LIMITS);
          checkConsistent(buf, cuts, SMALL);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "mutated valid responses: no throw, known results, incremental agrees",
    () => {
      fc.assert(
        fc.property(responseArb, mutationsArb, cutsArb, (text, muts, raw) => {
          const buf = mutate(enc(text), muts);
          checkConsistent(buf, cutPoints(raw, buf.length), DEFAULT_LIMITS);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "valid requests split across reads parse as in one read",
    () => {
      fc.assert(
        fc.property(requestModel, requestModel, cutsArb, fc.nat({ max: 8 }), (a, b, raw, junk) => {
          const first = serialise(a);
          const text = `${"#".repeat(junk)}${first}${serialise(b)}`;
          const buf = enc(text);
          const whole = new RequestHead();
          const r1 = parseRequestHead(buf, junk, buf.length, whole, DEFAULT_LIMITS);
          expect(r1).toBe(first.length);
          const head = new RequestHead();
          for (const k of cutPoints(raw, first.length - 1)) {
            expect(parseRequestHead(buf, junk, junk + k, head, DEFAULT_LIMITS)).toBe(NEED_MORE);
            expect(parseRequestHead(buf, junk, junk + k, new RequestHead(), DEFAULT_LIMITS)).toBe(
              NEED_MORE,
            );
          }
          expect(parseRequestHead(buf, junk, buf.length, head, DEFAULT_LIMITS)).toBe(first.length);
          expect(snapshotRequest(buf, head)).toEqual(snapshotRequest(buf, whole));
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "serialise then parse round trip",
    () => {
      fc.assert(
        fc.property(requestModel, (m) => {
          const text = serialise(m);
          const buf = enc(text);
          const head = new RequestHead();
          expect(parseRequestHead(buf, 0, buf.length, head, DEFAULT_LIMITS)).toBe(text.length);
          const s = snapshotRequest(buf, head);
          expect(s.method).toBe(m.method);
          expect(s.target).toBe(m.target);
          expect(s.minor).toBe(m.minor);
          expect(s.fields.map(([n, v]) => [n, v])).toEqual(m.fields.map(([n, v]) => [n, v]));
          expect(s.host).toBe(m.host);
          expect(s.contentLength).toBe(m.contentLength);
          expect(s.chunked).toBe(m.chunked);
          expect(s.keepAlive).toBe(m.keepAlive);
          expect(s.connectionTokens).toEqual(m.connectionTokens);
          expect(s.expectContinue).toBe(m.expectContinue);
          expect(s.xForwarded).toBe(m.xForwarded);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "CONNECT parses without Content-Length and Transfer-Encoding, is refused with either",
    () => {
      fc.assert(
        fc.property(connectArb, cutsArb, ({ model, framed }, raw) => {
          const text = serialise(model);
          const buf = enc(text);
          const head = new RequestHead();
          const r = parseRequestHead(buf, 0, buf.length, head, DEFAULT_LIMITS);
          if (framed) {
            expect(r).toBe(E_CONNECT_WITH_BODY);
            expect(errorStatus(r)).toBe(400);
          } else {
            expect(r).toBe(text.length);
            expect([head.method, head.target(buf), head.contentLength, head.chunked]).toEqual([
              "CONNECT",
              model.target,
              -1,
              false,
            ]);
          }
          const split = trickle(
            parseRequestHead,
            new RequestHead(),
            buf,
            cutPoints(raw, buf.length - 1),
            DEFAULT_LIMITS,
          );
          expect(split).toBe(r);
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "responses: OWS around values and list commas changes nothing but offsets",
    () => {
      fc.assert(
        fc.property(responseOwsArb, ([plain, spaced]) => {
          const a = new ResponseHead();
          const b = new ResponseHead();
          const ra = parseResponseHead(enc(plain), 0, plain.length, a, DEFAULT_LIMITS);
          const rb = parseResponseHead(enc(spaced), 0, spaced.length, b, DEFAULT_LIMITS);
          if (ra < 0) {
            expect(rb).toBe(ra);
            return;
          }
          expect([ra, rb]).toEqual([plain.length, spaced.length]);
          const derived = (h: ResponseHead) => [
            h.status,
            h.contentLength,
            h.chunked,
            h.transferEncoding,
            h.unknownCoding,
            h.keepAlive,
            h.connectionTokens,
          ];
          expect(derived(b)).toEqual(derived(a));
        }),
        params,
      );
    },
    TIMEOUT,
  );

  test(
    "chunked bodies split anywhere are consumed exactly",
    () => {
      fc.assert(
        fc.property(chunkedBodyArb, cutsArb, (body, raw) => {
          const buf = enc(`${body}GET / HTTP/1.1\r\n`);
          const framer = new ChunkedFramer();
          let at = 0;
          let total = 0;
          for (const k of [...cutPoints(raw, buf.length), buf.length]) {
            if (k < at || framer.done) continue;
            const n = framer.feed(buf, at, k);
            expect(n).toBeGreaterThanOrEqual(0);
            total += n;
            if (!framer.done) expect(n).toBe(k - at);
            at = k;
          }
          expect(framer.done).toBe(true);
          expect(total).toBe(body.length);
        }),
        params,
      );
    },
    TIMEOUT,
  );
});

describe("fuzz response rewrite", () => {
  test(
    "a head rewritten where it lies equals the copied rewrite, and leaves the body alone",
    () => {
      fc.assert(
        fc.property(hopByHopResponseArb, fc.boolean(), fc.boolean(), (text, keepAlive, http10) => {
          const original = Buffer.concat([enc(text), enc("body!")]);
          const head = new ResponseHead();
          const length = parseResponseHead(original, 0, original.length, head, DEFAULT_LIMITS);
          expect(length).toBe(text.length);
          const copied = Buffer.from(
            clientResponseHead(original, head, keepAlive, http10, false, null, 0, 0),
          );
          const bytes = Buffer.from(original);
          const start = clientResponseHeadInPlace(bytes, head, keepAlive, http10);
          // With nothing to add (a keep-alive HTTP/1.1 client), it always fits.
          if (keepAlive && !http10) expect(start).toBeGreaterThanOrEqual(0);
          if (start < 0) {
            expect(bytes).toEqual(original);
            return;
          }
          expect(bytes.subarray(start, length).toString("latin1")).toBe(copied.toString("latin1"));
          expect(bytes.subarray(length).toString("latin1")).toBe("body!");
        }),
        params,
      );
    },
    TIMEOUT,
  );
});

describe("fuzz chunked", () => {
  test(
    "mutated chunked bodies: split feeding agrees with one feed",
    () => {
      fc.assert(
        fc.property(chunkedBodyArb, mutationsArb, cutsArb, (body, muts, raw) => {
          const buf = mutate(enc(`${body}NEXT`), muts);
          const one = new ChunkedFramer();
          const n1 = one.feed(buf, 0, buf.length);
          expect(n1 >= -1 && n1 <= buf.length).toBe(true);
          const split = new ChunkedFramer();
          let at = 0;
          let total = 0;
          for (const k of [...cutPoints(raw, buf.length), buf.length]) {
            if (k < at) continue;
            const n = split.feed(buf, at, k);
            if (n < 0) {
              total = -1;
              break;
            }
            total += n;
            at = k;
            if (split.done) break;
          }
          expect(total).toBe(n1);
          expect(split.done).toBe(one.done);
        }),
        params,
      );
    },
    TIMEOUT,
  );
});
