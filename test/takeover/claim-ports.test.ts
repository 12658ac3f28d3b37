/** Every listener's port fixed before binding, and an address in use refused as before. */
import { afterEach, expect, test } from "bun:test";
import { parseAddress } from "../../src/config/address.ts";
import { type Config, ConfigError, DEFAULTS } from "../../src/config/config.ts";
import { claimPorts } from "../../src/takeover/claim-ports.ts";
import type { HeldListeners } from "../../src/takeover/protocol.ts";

const held: { stop(closeActive?: boolean): void }[] = [];
afterEach(() => {
  for (const listener of held.splice(0)) listener.stop(true);
});

function config(addresses: Partial<Record<"bind" | "bindInternal" | "bindManagement", string[]>>) {
  return {
    ...DEFAULTS,
    bind: (addresses.bind ?? []).map(parseAddress),
    bindInternal: (addresses.bindInternal ?? []).map(parseAddress),
    bindManagement: (addresses.bindManagement ?? []).map(parseAddress),
  } satisfies Config;
}

/** A port taken by another program, without SO_REUSEPORT. */
function taken(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  held.push(listener);
  return listener.port;
}

test("a port 0 becomes a free port, the same for every later bind", () => {
  const claimed = claimPorts(config({ bind: ["127.0.0.1:0"], bindManagement: ["127.0.0.1:0"] }));
  const [bind] = claimed.bind;
  expect(bind!.port).toBeGreaterThan(0);
  expect(bind!.text).toBe(`127.0.0.1:${bind!.port}`);
  expect(claimed.bindManagement[0]!.port).toBeGreaterThan(0);
  // Free indeed: bound alone it works.
  held.push(Bun.listen({ hostname: "127.0.0.1", port: bind!.port, socket: { data() {} } }));
});

test("an address in use is refused, named with its option, as a failed bind is", () => {
  const port = taken();
  expect(() => claimPorts(config({ bindInternal: [`127.0.0.1:${port}`] }))).toThrow(
    new ConfigError(
      `cannot listen on 127.0.0.1:${port} (the address is in use): change bind_internal or --bind-internal`,
    ),
  );
  expect(() => claimPorts(config({ bindManagement: [`127.0.0.1:${port}`] }))).toThrow(
    new ConfigError(
      `cannot listen on 127.0.0.1:${port} for management (the address is in use): change bind_management or --management`,
    ),
  );
});

test("taking over, port 0 means the old server's port, and its addresses are not probed", () => {
  const port = taken();
  const other = taken();
  const listeners: HeldListeners = {
    bind: [{ text: "127.0.0.1:0", host: "127.0.0.1", port }],
    internal: [],
    tls: [],
    management: [{ text: `127.0.0.1:${other}`, host: "127.0.0.1", port: other }],
  };
  const claimed = claimPorts(
    config({ bind: ["127.0.0.1:0"], bindManagement: [`127.0.0.1:${other}`] }),
    listeners,
  );
  expect(claimed.bind[0]).toEqual({ host: "127.0.0.1", port, text: `127.0.0.1:${port}` });
  expect(claimed.bindManagement[0]!.port).toBe(other);
  // A new address beside them is still checked.
  const third = taken();
  expect(() =>
    claimPorts(config({ bind: ["127.0.0.1:0", `127.0.0.1:${third}`] }), listeners),
  ).toThrow("the address is in use");
});
