/**
 * The ClientHello reader on untrusted bytes: the hellos of real clients, each
 * cut of them and any framing in records; thousands of generated hellos read
 * back as written; thousands of bent ones answered without a throw, with
 * `more`, `invalid` or names taken from the input; and no input, however long,
 * kept waiting past MAX_HELLO_BYTES. Seeded: HELLO_SEED replays a failure.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import {
  type HelloRead,
  MAX_HELLO_BYTES,
  readClientHello,
} from "../../../src/tls/alpn/client-hello.ts";
import { captureHello } from "./hello-capture.ts";
import {
  ascii,
  decodeHello,
  type EncodedHello,
  encodeHello,
  expectedRead,
  frame,
  helloEndingIn,
  helloOfSize,
  latin1,
  PLAIN,
  recordPayloads,
} from "./hello-encoding.ts";
import {
  between,
  mutate,
  type Random,
  randomBytes,
  randomHello,
  recordSizes,
  seeded,
} from "./hello-random.ts";
import { CLIENTS, type RealClient } from "./real-clients.ts";

const BASE_SEED = Number(process.env.HELLO_SEED ?? 8737);

/** Runs `check` on `count` seeds; a failure names its seed. */
function eachSeed(count: number, check: (random: Random) => void): void {
  for (let i = 0; i < count; i++) {
    const seed = BASE_SEED + i;
    try {
      check(seeded(seed));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`failed with seed ${seed} (replay: HELLO_SEED=${seed}): ${message}`);
    }
  }
}

const captured = new Map<string, Uint8Array>();

beforeAll(async () => {
  const hellos = await Promise.all(CLIENTS.map((client) => captureHello(client.launch)));
  for (const [i, client] of CLIENTS.entries()) captured.set(client.title, hellos[i]!);
});

function helloOf(client: RealClient): Uint8Array {
  return captured.get(client.title)!;
}

function helloRead(client: RealClient): HelloRead {
  return { servername: client.servername, protocols: client.protocols };
}

describe("real clients' hellos", () => {
  for (const client of CLIENTS) {
    test(`${client.title}: the name and protocols it sent`, () => {
      const hello = helloOf(client);
      expect(readClientHello(hello)).toEqual(helloRead(client));
      if (client.sentAs !== undefined) expect(latin1(hello)).toContain(client.sentAs);
      // The tests' own encoder writes these hellos byte for byte, so its bent lengths are real ones.
      expect(encodeHello(decodeHello(hello.subarray(5))).wire).toEqual(hello);
    });
  }

  test("every cut of each reads `more`, the whole the hello, and what follows it changes nothing", () => {
    for (const client of CLIENTS) {
      const hello = helloOf(client);
      for (let cut = 0; cut < hello.length; cut++) {
        expect(readClientHello(hello.subarray(0, cut))).toBe("more");
      }
      const followed = Uint8Array.from([...hello, 20, 3, 3, 0, 1, 1]);
      expect(readClientHello(followed)).toEqual(helloRead(client));
      const sharingItsRecord = frame(
        Uint8Array.from([...hello.subarray(5), 20, 0, 0, 0]),
        [16_384],
      );
      expect(readClientHello(sharingItsRecord)).toEqual(helloRead(client));
    }
  });

  test("the same hello in 1-byte records, and in records of random sizes, cut anywhere", () => {
    for (const client of CLIENTS) {
      const message = helloOf(client).subarray(5);
      expect(readClientHello(frame(message, [1]))).toEqual(helloRead(client));
      eachSeed(20, (random) => {
        const framed = frame(message, recordSizes(random, message.length));
        expect(readClientHello(framed)).toEqual(helloRead(client));
        const cut = between(random, 0, framed.length - 1);
        expect(readClientHello(framed.subarray(0, cut))).toBe("more");
      });
    }
  });
});

test("generated hellos of every shape read back as written, in any records", () => {
  eachSeed(3000, (random) => {
    const spec = randomHello(random);
    const { wire, message } = encodeHello(spec);
    const framed = frame(message, recordSizes(random, message.length));
    // A hello spread wider than MAX_HELLO_BYTES is not looked into, however it is framed.
    for (const input of [wire, framed]) {
      const expected = input.length <= MAX_HELLO_BYTES ? expectedRead(spec) : "invalid";
      expect(readClientHello(input)).toEqual(expected);
    }
  });
});

/** What any input may read as: never a throw, and only names that are in the input. */
function expectSoundRead(input: Uint8Array, random: Random): void {
  const read = readClientHello(input);
  if (read === "more") expect(input.length).toBeLessThan(MAX_HELLO_BYTES);
  else if (read !== "invalid") {
    const texts = [latin1(input), latin1(recordPayloads(input))];
    const { servername, protocols } = read;
    if (servername !== null) {
      expect(servername).toBe(servername.toLowerCase());
      expect(texts.some((text) => text.toLowerCase().includes(servername))).toBe(true);
    }
    for (const protocol of protocols) {
      expect(protocol.length).toBeGreaterThan(0);
      expect(texts.some((text) => text.includes(protocol))).toBe(true);
    }
  }
  // The answer rests on a prefix of the input: a shorter one says `more` or the same.
  const early = readClientHello(input.subarray(0, between(random, 0, input.length)));
  if (early !== "more") expect<HelloRead>(early).toEqual(read);
  if (read !== "more") {
    const longer = Uint8Array.from([...input, ...randomBytes(random, between(random, 1, 40))]);
    expect(readClientHello(longer)).toEqual(read);
  }
}

describe("bent hellos", () => {
  let reals: EncodedHello[];
  beforeAll(() => {
    reals = CLIENTS.map((client) => encodeHello(decodeHello(helloOf(client).subarray(5))));
  });

  test("real ones, bent thousands of ways, in one record or many", () => {
    eachSeed(4000, (random) => {
      const real = reals[between(random, 0, reals.length - 1)]!;
      const source =
        random() < 0.75 ? real : frame(real.message, recordSizes(random, real.message.length));
      expectSoundRead(mutate(random, source), random);
    });
  });

  test("generated ones, bent thousands of ways", () => {
    eachSeed(4000, (random) => {
      const hello = encodeHello(randomHello(random));
      expectSoundRead(mutate(random, hello), random);
    });
  });

  test("random bytes, behind a handshake record header or not", () => {
    eachSeed(2000, (random) => {
      const body = randomBytes(random, between(random, 0, 600));
      const length = body.length + 1;
      const record = [22, 3, 1, length >> 8, length & 255, 1];
      expectSoundRead(random() < 0.5 ? body : Uint8Array.from([...record, ...body]), random);
    });
  });
});

/** A real hello with another first byte of its handshake message. */
function asHandshake(type: number): Uint8Array {
  const hello = Uint8Array.from(helloOf(CLIENTS[0]!));
  hello[5] = type;
  return hello;
}

describe("bytes that are no ClientHello", () => {
  const cases: [string, () => Uint8Array, number][] = [
    ["an HTTP request", () => ascii("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 1],
    ["the HTTP/2 preface", () => ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 1],
    ["a TLS alert record", () => Uint8Array.from([21, 3, 3, 0, 2, 2, 40]), 1],
    ["an application data record", () => Uint8Array.from([23, 3, 3, 0, 3, 1, 2, 3]), 1],
    ["an SSL 2 hello", () => Uint8Array.from([0x80, 0x2e, 1, 3, 1, 0, 0x15]), 1],
    ["a handshake record of version 2", () => Uint8Array.from([22, 2, 0, 0, 4, 1, 0, 0, 0]), 2],
    ["an empty handshake record", () => Uint8Array.from([22, 3, 1, 0, 0, 22, 3, 1, 0, 1, 1]), 5],
    ["a record longer than TLS allows", () => Uint8Array.from([22, 3, 1, 0x40, 0x01, 1, 0]), 5],
    ["a ServerHello", () => asHandshake(2), 6],
    ["a Certificate message", () => asHandshake(11), 6],
  ];
  for (const [title, bytes, knownAt] of cases) {
    test(`${title} is invalid from its byte ${knownAt} on`, () => {
      const input = bytes();
      for (let cut = 0; cut <= input.length; cut++) {
        const read = readClientHello(input.subarray(0, cut));
        expect([cut, read]).toEqual([cut, cut < knownAt ? "more" : "invalid"]);
      }
    });
  }
});

describe("malformed hellos are invalid", () => {
  const h2 = [2, 104, 50];
  const cases: [string, Uint8Array][] = [
    ["a session id of 33 bytes", encodeHello({ ...PLAIN, sessionId: new Uint8Array(33) }).wire],
    ["no cipher suites", encodeHello({ ...PLAIN, suites: new Uint8Array(0) }).wire],
    [
      "half a cipher suite",
      encodeHello({ ...PLAIN, suites: Uint8Array.from([0x13, 1, 0x13]) }).wire,
    ],
    ["no compression methods", encodeHello({ ...PLAIN, compression: new Uint8Array(0) }).wire],
    ["an empty protocol name", helloEndingIn([0, 10, 0, 16, 0, 6, 0, 4, ...h2, 0])],
    ["a protocol list past its extension", helloEndingIn([0, 9, 0, 16, 0, 5, 0, 4, ...h2])],
    ["an extension past the block", helloEndingIn([0, 9, 0, 16, 0, 6, 0, 3, ...h2])],
    ["a host name past its list", helloEndingIn([0, 10, 0, 0, 0, 6, 0, 4, 0, 0, 2, 97])],
    ["bytes after the extensions", helloEndingIn([0, 9, 0, 16, 0, 5, 0, 3, ...h2, 7])],
    ["half an extensions length", helloEndingIn([0])],
    ["an empty host name", helloEndingIn([0, 9, 0, 0, 0, 5, 0, 3, 0, 0, 0])],
    ["an empty server name list", helloEndingIn([0, 6, 0, 0, 0, 2, 0, 0])],
    ["an empty protocol list", helloEndingIn([0, 6, 0, 16, 0, 2, 0, 0])],
  ];
  for (const [title, wire] of cases) {
    test(title, () => expect(readClientHello(wire)).toBe("invalid"));
  }

  test("while the same hellos, well formed, are read", () => {
    const alpn = { servername: null, protocols: ["h2"] };
    expect(readClientHello(encodeHello(PLAIN).wire)).toEqual({ servername: null, protocols: [] });
    expect(readClientHello(helloEndingIn([0, 9, 0, 16, 0, 5, 0, 3, ...h2]))).toEqual(alpn);
    const named = helloEndingIn([0, 10, 0, 0, 0, 6, 0, 4, 0, 0, 1, 65]);
    expect(readClientHello(named)).toEqual({ servername: "a", protocols: [] });
  });
});

describe("MAX_HELLO_BYTES", () => {
  const BIG = { servername: "big.test", protocols: ["acme-tls/1"] };

  test("a hello that fills one whole record is read", () => {
    const wire = frame(helloOfSize(16_384), [16_384]);
    expect(wire.length).toBe(MAX_HELLO_BYTES);
    expect(readClientHello(wire)).toEqual(BIG);
  });

  test("a hello longer than that is invalid as soon as its length is in", () => {
    const wire = frame(helloOfSize(20_000), [16_384]);
    expect(readClientHello(wire.subarray(0, 8))).toBe("more");
    expect(readClientHello(wire.subarray(0, 9))).toBe("invalid");
    expect(readClientHello(wire)).toBe("invalid");
  });

  test("a hello spread over more than MAX_HELLO_BYTES is invalid, not `more` for ever", () => {
    // 1-byte records past the limit by far, or just (a header cut at the limit); two records.
    const wires = [helloOfSize(4_000), helloOfSize(2_732)].map((message) => frame(message, [1]));
    wires.push(frame(helloOfSize(16_384), [16_000]));
    for (const wire of wires) {
      expect(wire.length).toBeGreaterThan(MAX_HELLO_BYTES);
      // `more` while the hello could still end in time, then `invalid` whatever follows.
      const cuts = [1_000, MAX_HELLO_BYTES - 1, MAX_HELLO_BYTES, wire.length];
      for (let cut = 0; cut < wire.length; cut += 61) cuts.push(cut);
      const reads = cuts.sort((a, b) => a - b).map((cut) => readClientHello(wire.subarray(0, cut)));
      const firstInvalid = reads.indexOf("invalid");
      expect(reads.slice(0, firstInvalid).every((read) => read === "more")).toBe(true);
      expect(reads.slice(firstInvalid).every((read) => read === "invalid")).toBe(true);
      expect(cuts[firstInvalid]).toBeGreaterThan(1_000);
      expect(cuts[firstInvalid]).toBeLessThanOrEqual(MAX_HELLO_BYTES);
    }
  });
});
