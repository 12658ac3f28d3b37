/**
 * The built-in pages, embedded into the executable at build time.
 * Each `.http` file holds a whole response, as in the original Mantrid.
 */
import badGateway from "./bad-gateway.http" with { type: "text" };
import noHosts from "./no-hosts.http" with { type: "text" };
import test from "./test.http" with { type: "text" };
import timeout from "./timeout.http" with { type: "text" };
import unknown from "./unknown.http" with { type: "text" };

export const BUILTIN_PAGES: Readonly<Record<string, string>> = {
  test,
  "no-hosts": noHosts,
  unknown,
  timeout,
  "bad-gateway": badGateway,
};
