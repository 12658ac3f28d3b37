/**
 * What a server and the process taking over from it say to each other, one
 * JSON object per line over a unix socket beside the state file. The two may
 * be different versions of Mantrid, so every message is checked on arrival.
 *
 *   new -> old   hello      who is asking
 *   old -> new   welcome    the old one's listeners (so port 0 means its port) and grace
 *            or  refused    another takeover is under way
 *   new -> old   release    save everything and give up the state file's lock
 *   old -> new   released   the lock is free; writes are refused from now on
 *   new -> old   ready      state loaded, listeners bound beside the old ones
 *   old -> new   committed  the old one stops accepting and finishes what it has
 *   new -> old   changes    rule changes made since, for requests held in the old one
 *   old -> new   bye        its counters since it released the state, as it exits
 *   either       abort      give up the takeover, with the reason
 */
import * as v from "valibot";

const Count = v.pipe(v.number(), v.finite(), v.minValue(0));
const Pid = v.pipe(v.number(), v.integer(), v.minValue(1));

/** One listener the old process has: the address as configured, and the port it got. */
const HeldAddress = v.object({ text: v.string(), host: v.string(), port: v.number() });
export type HeldAddress = v.InferOutput<typeof HeldAddress>;

export const HeldListeners = v.object({
  bind: v.array(HeldAddress),
  internal: v.array(HeldAddress),
  tls: v.optional(v.array(HeldAddress), []),
  management: v.array(HeldAddress),
});
export type HeldListeners = v.InferOutput<typeof HeldListeners>;

/** A host's counters that grew in the old process after it saved them. */
const CounterGrowth = v.object({
  completed_requests: Count,
  bytes_sent: Count,
  bytes_received: Count,
});
export type CounterGrowth = v.InferOutput<typeof CounterGrowth>;

/** A rule change as workers receive it; the rule inside is parsed again where it is applied. */
export const WireChange = v.variant("kind", [
  v.object({ kind: v.literal("set"), key: v.string(), rule: v.array(v.unknown()) }),
  v.object({ kind: v.literal("delete"), key: v.string() }),
  v.object({ kind: v.literal("replace"), rules: v.record(v.string(), v.array(v.unknown())) }),
  v.object({
    kind: v.literal("backend"),
    key: v.string(),
    admin: v.picklist(["enabled", "draining", "disabled"]),
  }),
]);

export const Message = v.variant("type", [
  v.object({ type: v.literal("hello"), pid: Pid, version: v.string() }),
  v.object({
    type: v.literal("welcome"),
    pid: Pid,
    version: v.string(),
    graceSeconds: Count,
    listeners: HeldListeners,
  }),
  v.object({ type: v.literal("refused"), reason: v.string() }),
  v.object({ type: v.literal("release") }),
  v.object({ type: v.literal("released") }),
  v.object({ type: v.literal("ready") }),
  v.object({ type: v.literal("committed") }),
  v.object({ type: v.literal("changes"), changes: v.array(WireChange) }),
  v.object({ type: v.literal("bye"), counters: v.record(v.string(), CounterGrowth) }),
  v.object({ type: v.literal("abort"), reason: v.string() }),
]);
export type Message = v.InferOutput<typeof Message>;
export type MessageType = Message["type"];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** A line from the other process: the message, or why it is not one. */
export function parseMessage(line: string): Message | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "a line that is not JSON";
  }
  const parsed = v.safeParse(Message, value);
  if (parsed.success) return parsed.output;
  const type = (value as { type?: unknown } | null)?.type;
  return `a malformed ${typeof type === "string" ? `"${type}" ` : ""}message: ${parsed.issues[0].message}`;
}

/** The socket beside the state file, found through the lock like the state itself. */
export function takeoverSocketPath(stateFile: string): string {
  return `${stateFile}.takeover.sock`;
}
