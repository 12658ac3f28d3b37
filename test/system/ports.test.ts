import { describe, expect, test } from "bun:test";
import { type ListenAddress, parseAddress } from "../../src/config/address.ts";
import { type Config, DEFAULTS } from "../../src/config/config.ts";
import { resolvePorts } from "../../src/system/ports.ts";

/** Frozen, as the defaults are: resolving must make new addresses, never edit these. */
const addresses = (...texts: string[]): ListenAddress[] =>
  Object.freeze(texts.map((text) => Object.freeze(parseAddress(text)))) as ListenAddress[];

const config = (bind: string[], bindInternal: string[] = []): Config =>
  Object.freeze({
    ...DEFAULTS,
    bind: addresses(...bind),
    bindInternal: addresses(...bindInternal),
    bindManagement: addresses("127.0.0.1:0"),
  });

/** True when a listener can be opened on the address now. */
function canListen(address: ListenAddress): boolean {
  const listener = Bun.listen({
    hostname: address.host,
    port: address.port,
    socket: { data() {} },
  });
  const bound = listener.port === address.port;
  listener.stop(true);
  return bound;
}

describe("resolvePorts", () => {
  test("port 0 becomes a fixed port that is free to bind again", () => {
    const [address] = resolvePorts(config(["127.0.0.1:0"])).bind;
    expect(address!.port).toBeGreaterThan(0);
    expect(address).toEqual({
      host: "127.0.0.1",
      port: address!.port,
      text: `127.0.0.1:${address!.port}`,
    });
    // The probe let go of it: a worker started next can take it.
    expect(canListen(address!)).toBe(true);
  });

  test("keeps the written form: every address stays `*`, IPv6 stays bracketed", () => {
    const { bind, bindInternal } = resolvePorts(config(["*:0"], ["[::1]:0"]));
    const every = bind[0]!;
    const loopback6 = bindInternal[0]!;
    expect(every).toEqual({ host: "::", port: every.port, text: `*:${every.port}` });
    expect(loopback6).toEqual({
      host: "::1",
      port: loopback6.port,
      text: `[::1]:${loopback6.port}`,
    });
    expect(every.port).toBeGreaterThan(0);
    expect(loopback6.port).toBeGreaterThan(0);
  });

  test("leaves fixed ports, their order and every other setting as they were", () => {
    const before = config(["127.0.0.1:0", "127.0.0.1:1"], ["127.0.0.1:2"]);
    const after = resolvePorts(before);
    expect(after).not.toBe(before);
    expect(after.bind).toHaveLength(2);
    expect(after.bind[1]).toBe(before.bind[1]!);
    expect(after.bindInternal[0]).toBe(before.bindInternal[0]!);
    expect({ ...after, bind: before.bind }).toEqual(before);
    // The input is untouched.
    expect(before.bind[0]!.port).toBe(0);
  });

  test("the management listeners are not the workers' and keep port 0", () => {
    const resolved = resolvePorts(config(["127.0.0.1:0"]));
    expect(resolved.bindManagement[0]!.port).toBe(0);
  });
});
