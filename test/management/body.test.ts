// A body read as it arrives gives, piece by piece, the text c.req.text() would give whole.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Hono } from "hono";
import { PIECE, streamBody } from "../../src/management/body.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

interface Read {
  pieces: string[];
  text: string;
}

/** The body as `chunks`, exactly so cut, through streamBody in a Hono handler. */
async function read(chunks: Uint8Array[]): Promise<Read> {
  let result: Read | undefined;
  const app = new Hono();
  app.put("/", async (c) => {
    const pieces: string[] = [];
    const body = await streamBody(c, (text) => pieces.push(text));
    result = { pieces, text: body.text() };
    return c.text("ok");
  });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const response = await app.fetch(new Request("http://x/", { method: "PUT", body }));
  expect(await response.text()).toBe("ok");
  return result!;
}

/** `bytes` cut at the given places. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const places = [...new Set(at.map((place) => place % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const place of [...places, bytes.length]) {
    chunks.push(bytes.slice(from, place));
    from = place;
  }
  return chunks;
}

/** What `c.req.text()` gives for these bytes. */
const whole = (bytes: Uint8Array) => new Response(Uint8Array.from(bytes)).text();

describe("streamBody", () => {
  test("any bytes cut anywhere: the pieces make the text c.req.text() gives", async () => {
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.constantFrom(0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80, 0xef, 0xbb, 0xbf, 0xff),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(byte, { maxLength: 200 }),
        fc.uint8Array({ maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (text, random, at) => {
          const bytes = new Uint8Array([...text, ...random]);
          const expected = await whole(bytes);
          const got = await read(cut(bytes, at));
          expect(got.pieces.join("")).toBe(expected);
          expect(got.text).toBe(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("a character cut between two chunks, a byte-order mark, a bad byte", async () => {
    const bytes = Buffer.from('\ufeff{"a":"é✓😀"}\u00ff');
    bytes[bytes.length - 2] = 0xff;
    for (let place = 0; place <= bytes.length; place++) {
      const got = await read([bytes.subarray(0, place), bytes.subarray(place)]);
      expect(got.pieces.join("")).toBe(await whole(bytes));
    }
  });

  test("small chunks are gathered: each piece but the last holds at least PIECE bytes", async () => {
    const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(100, 97 + (i % 26)));
    const got = await read(chunks);
    const nonEmpty = got.pieces.filter((piece) => piece !== "");
    expect(nonEmpty.length).toBe(Math.ceil((3000 * 100) / PIECE));
    for (const piece of nonEmpty.slice(0, -1)) expect(piece.length).toBeGreaterThanOrEqual(PIECE);
    expect(nonEmpty.join("")).toBe(Buffer.concat(chunks).toString());
  });

  test("no body is no text", async () => {
    const app = new Hono();
    let text: string | undefined;
    app.put("/", async (c) => {
      text = (await streamBody(c, () => {})).text();
      return c.text("ok");
    });
    await app.fetch(new Request("http://x/", { method: "PUT" }));
    expect(text).toBe("");
  });
});
