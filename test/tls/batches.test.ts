/** Reads a batch at a time: in order, the next batch started while the caller holds this one, no more. */
import { expect, test } from "bun:test";
import { inBatches } from "../../src/tls/batches.ts";

test("every item in order, a batch at a time, the next batch under way and no further", async () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  let started = 0;
  const seen: number[][] = [];
  const startedWhenSeen: number[] = [];
  const read = async (item: number) => {
    started++;
    return item * 10;
  };
  for await (const batch of inBatches(items, read, 4)) {
    seen.push(batch);
    startedWhenSeen.push(started);
  }
  expect(seen).toEqual([
    [0, 10, 20, 30],
    [40, 50, 60, 70],
    [80, 90],
  ]);
  expect(startedWhenSeen).toEqual([8, 10, 10]);
});

test("no items, no batch; a read that fails ends the batches with its error", async () => {
  for await (const _ of inBatches([], async () => 1)) throw new Error("a batch of nothing");
  const failing = inBatches(
    [1, 2, 3],
    async (item) => {
      if (item === 3) throw new Error("cannot read 3");
      return item;
    },
    2,
  );
  expect((await failing.next()).value).toEqual([1, 2]);
  await expect(failing.next()).rejects.toThrow("cannot read 3");
});
