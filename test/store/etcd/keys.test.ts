/** Mantrid's keys in etcd, and the values they hold. */
import { describe, expect, test } from "bun:test";
import { keyAfter, prefixRange, StoreKeys } from "../../../src/store/etcd/keys.ts";
import { decodeAdmin, RuleReader, storedHostname } from "../../../src/store/etcd/values.ts";

describe("StoreKeys", () => {
  const keys = new StoreKeys("/mantrid/");

  test("a rule and a backend state each have one key", () => {
    expect(keys.rule("www.example.com")).toBe("/mantrid/hostname/www.example.com");
    expect(keys.rule("https://example.com")).toBe("/mantrid/hostname/https://example.com");
    expect(keys.backend("[::1]:8000")).toBe("/mantrid/backend/[::1]:8000");
  });

  test("keys are read back; anything else under the prefix is not ours", () => {
    expect(keys.parse("/mantrid/hostname/https://example.com")).toEqual({
      kind: "rule",
      host: "https://example.com",
    });
    expect(keys.parse(Buffer.from("/mantrid/backend/10.0.0.1:80"))).toEqual({
      kind: "backend",
      key: "10.0.0.1:80",
    });
    expect(keys.parse("/mantrid/hostname/")).toBeNull();
    expect(keys.parse("/mantrid/other/x")).toBeNull();
    expect(keys.parse("/elsewhere/hostname/x")).toBeNull();
  });

  test("a prefix's range ends at the prefix plus one", () => {
    expect(prefixRange("/a/")).toEqual({ start: Buffer.from("/a/"), end: Buffer.from("/a0") });
    const high = prefixRange("\xff");
    expect(high.end).toEqual(Buffer.from([0xc3, 0xbf + 1]));
    expect(keyAfter(Buffer.from("ab"))).toEqual(Buffer.from([0x61, 0x62, 0]));
  });
});

describe("values", () => {
  test("equal rule texts give one shared rule; texts the API refuses are problems", () => {
    const reader = new RuleReader();
    const one = reader.read(Buffer.from('["empty", {"code": 204}, false]'));
    const two = reader.read(Buffer.from('["empty", {"code": 204}, false]'));
    expect(one.ok && two.ok && one.value === two.value).toBe(true);
    const refused = reader.read(Buffer.from('["empty", {"code": 99}, false]'));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.problems[0]!.path).toEqual(["options", "code"]);
    const broken = reader.read(Buffer.from("not json"));
    expect(broken.ok).toBe(false);
  });

  test("backend states are JSON strings of a stored state", () => {
    expect(decodeAdmin(Buffer.from('"draining"'))).toBe("draining");
    expect(decodeAdmin(Buffer.from('"disabled"'))).toBe("disabled");
    expect(decodeAdmin(Buffer.from('"enabled"'))).toBeNull();
    expect(decodeAdmin(Buffer.from("draining"))).toBeNull();
  });

  test("only hostnames in their stored form are taken", () => {
    expect(storedHostname("www.example.com")).toBe("www.example.com");
    expect(storedHostname("http://example.com")).toBe("http://example.com");
    expect(storedHostname("WWW.example.com")).toBeNull();
    expect(storedHostname("example.com.")).toBeNull();
    expect(storedHostname("bad host")).toBeNull();
  });
});
