/**
 * The access log's batches, drops and reopening, over an injected writer that
 * the test controls: a write may be held, fail (a full disk) or go through.
 */
import { describe, expect, test } from "bun:test";
import { AccessLog, chunkEnd, FLUSH_BYTES, MAX_PENDING_BYTES } from "../../src/stats/access-log.ts";
import { type LogWriter, WriteFailed } from "../../src/stats/log-writer.ts";
import { catchServerLog } from "../support/stderr.ts";
import { ended } from "./ended.ts";

/** Records every write, in the file it went to (reopen moves on to the next file). */
class FakeWriter implements LogWriter {
  name = "fake.log";
  atomicBytes = Number.POSITIVE_INFINITY;
  files: string[] = [""];
  writes: number[] = [];
  /** The next writes fail with this, as ENOSPC does, after writing `partial` bytes. */
  failure: { code: string; partial: number } | null = null;
  /** When set, writes wait until `release()`. */
  holding = false;
  reopenFails = false;
  closed = false;
  private held: (() => void)[] = [];

  write(data: Uint8Array): Promise<void> {
    this.writes.push(data.length);
    const text = Buffer.from(data).toString();
    const go = (): void => {
      if (this.failure === null) {
        this.files[this.files.length - 1] += text;
        return;
      }
      const { code, partial } = this.failure;
      this.files[this.files.length - 1] += text.slice(0, partial);
      throw new WriteFailed(code, partial, `${code}: no space left on device, write`);
    };
    if (!this.holding) return Promise.resolve().then(go);
    return new Promise<void>((resolve) => this.held.push(resolve)).then(go);
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  async reopen(): Promise<boolean> {
    if (this.reopenFails)
      throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    this.files.push("");
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const targets = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line).target as string);

const logged = catchServerLog();

const logLines = (pattern: RegExp) => logged.filter((line) => pattern.test(line));

describe("batches", () => {
  test("lines wait in memory: the request path never writes", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    for (let i = 0; i < 3; i++) accessLog.requestEnded(ended({ path: `/${i}` }));
    expect(writer.writes).toEqual([]);
    await accessLog.flush();
    expect(writer.writes.length).toBe(1);
    expect(targets(writer.files[0]!)).toEqual(["/0", "/1", "/2"]);
    expect(accessLog.written).toBe(3);
    await accessLog.close();
    expect(writer.closed).toBe(true);
  });

  test(`a batch of ${FLUSH_BYTES} bytes is written at once, not at the timer`, async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    let count = 0;
    while (writer.writes.length === 0) accessLog.requestEnded(ended({ path: `/${count++}` }));
    expect(writer.writes[0]).toBeGreaterThanOrEqual(FLUSH_BYTES);
    expect(writer.writes[0]).toBeLessThan(FLUSH_BYTES + 1000);
    await accessLog.close();
    expect(targets(writer.files[0]!)).toEqual(Array.from({ length: count }, (_, i) => `/${i}`));
  });

  test("the timer writes a small batch by itself", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    const written = new Promise<void>((resolve) => {
      const write = writer.write.bind(writer);
      writer.write = (data) => write(data).finally(resolve);
    });
    accessLog.requestEnded(ended({ path: "/alone" }));
    await written;
    expect(targets(writer.files[0]!)).toEqual(["/alone"]);
    await accessLog.close();
  });

  test("lines from after close are not logged", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    await accessLog.close();
    accessLog.requestEnded(ended());
    await accessLog.flush();
    expect(writer.writes).toEqual([]);
  });

  test("stderr-like writers get writes of whole lines within their atomic size", async () => {
    const writer = new FakeWriter();
    writer.atomicBytes = 4096;
    const accessLog = new AccessLog(writer);
    for (let i = 0; i < 200; i++) accessLog.requestEnded(ended({ path: `/${i}` }));
    accessLog.requestEnded(ended({ path: `/long/${"x".repeat(6000)}` }));
    accessLog.requestEnded(ended({ path: "/after" }));
    await accessLog.close();
    expect(writer.writes.length).toBeGreaterThan(5);
    const long = writer.writes.filter((size) => size > 4096);
    expect(long.length).toBe(1);
    expect(targets(writer.files[0]!).length).toBe(202);
  });
});

describe("chunkEnd", () => {
  const data = Buffer.from("aaa\nbbb\nccc\n");
  test("cuts after the last whole line within the limit", () => {
    expect(chunkEnd(data, 0, 100)).toBe(12);
    expect(chunkEnd(data, 0, 9)).toBe(8);
    expect(chunkEnd(data, 4, 4)).toBe(8);
  });
  test("a line longer than the limit goes whole", () => {
    expect(chunkEnd(data, 0, 2)).toBe(4);
  });
});

describe("a full disk drops lines and counts them", () => {
  test("a failed write drops its batch, says so once, and says when writing works again", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    writer.failure = { code: "ENOSPC", partial: 0 };
    for (let i = 0; i < 10; i++) accessLog.requestEnded(ended({ path: `/lost/${i}` }));
    await accessLog.flush();
    for (let i = 0; i < 10; i++) accessLog.requestEnded(ended({ path: `/lost/${i + 10}` }));
    await accessLog.flush();
    expect(accessLog.dropped).toBe(20);
    expect(accessLog.written).toBe(0);
    expect(logLines(/cannot write/)).toHaveLength(1);
    expect(logLines(/cannot write/)[0]).toContain(
      "warn  access log fake.log: cannot write (ENOSPC: no space left on device): dropping lines",
    );

    writer.failure = null;
    for (let i = 0; i < 5; i++) accessLog.requestEnded(ended({ path: `/kept/${i}` }));
    await accessLog.flush();
    expect(accessLog.written).toBe(5);
    expect(logLines(/writing again/)).toHaveLength(1);
    expect(logLines(/writing again/)[0]).toContain(
      "access log fake.log: writing again; 20 lines dropped",
    );
    await accessLog.close();
    expect(logLines(/in all/)[0]).toContain("access log fake.log: 20 lines dropped in all");
    expect(targets(writer.files[0]!)).toEqual([
      "/kept/0",
      "/kept/1",
      "/kept/2",
      "/kept/3",
      "/kept/4",
    ]);
  });

  test("a write cut short counts the lines before the cut as written, the rest as dropped", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    const one = Buffer.byteLength(
      (await import("../../src/stats/access-line.ts")).formatAccessLine(ended({ path: "/0" })),
    );
    writer.failure = { code: "ENOSPC", partial: 2 * one + 5 };
    for (let i = 0; i < 4; i++) accessLog.requestEnded(ended({ path: `/${i}` }));
    await accessLog.flush();
    expect(accessLog.written).toBe(2);
    expect(accessLog.dropped).toBe(2);
    await accessLog.close();
  });

  test(`beyond ${MAX_PENDING_BYTES} bytes waiting, lines are dropped and counted; traffic is never held`, async () => {
    const writer = new FakeWriter();
    writer.holding = true;
    const accessLog = new AccessLog(writer);
    const total = 30_000;
    for (let i = 0; i < total; i++) accessLog.requestEnded(ended({ path: `/${i}` }));
    expect(writer.writes.length).toBe(1);
    expect(accessLog.dropped).toBeGreaterThan(0);
    expect(logLines(/waits to be written/)).toHaveLength(1);
    writer.release();
    await accessLog.close();
    expect(accessLog.written + accessLog.dropped).toBe(total);
    const kept = targets(writer.files[0]!);
    expect(kept.length).toBe(accessLog.written);
    // The first lines are kept, the last ones dropped: no gap in what was kept.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => `/${i}`));
  });
});

describe("reopen", () => {
  test("waits for the write under way: earlier lines stay in the old file, none is lost", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    writer.holding = true;
    let count = 0;
    while (writer.writes.length === 0) accessLog.requestEnded(ended({ path: `/${count++}` }));
    const inFlight = count;
    const reopened = accessLog.reopen();
    for (let i = 0; i < 10; i++) accessLog.requestEnded(ended({ path: `/${count++}` }));
    expect(writer.files.length).toBe(1);
    writer.release();
    await reopened;
    expect(writer.files.length).toBe(2);
    for (let i = 0; i < 10; i++) accessLog.requestEnded(ended({ path: `/${count++}` }));
    await accessLog.close();
    const before = targets(writer.files[0]!);
    const after = targets(writer.files[1]!);
    expect(before).toEqual(Array.from({ length: inFlight }, (_, i) => `/${i}`));
    expect([...before, ...after]).toEqual(Array.from({ length: count }, (_, i) => `/${i}`));
    expect(logLines(/access log fake.log reopened/)).toHaveLength(1);
  });

  test("once closed, a late signal opens nothing", async () => {
    const writer = new FakeWriter();
    const accessLog = new AccessLog(writer);
    await accessLog.close();
    await accessLog.reopen();
    expect(writer.files.length).toBe(1);
  });

  test("a path that cannot be opened again keeps the old file", async () => {
    const writer = new FakeWriter();
    writer.reopenFails = true;
    const accessLog = new AccessLog(writer);
    await accessLog.reopen();
    accessLog.requestEnded(ended({ path: "/still" }));
    await accessLog.close();
    expect(targets(writer.files[0]!)).toEqual(["/still"]);
    expect(logLines(/cannot reopen \(EACCES: permission denied\); still writing/)).toHaveLength(1);
  });
});
