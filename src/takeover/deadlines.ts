/**
 * How long each step of a takeover may take before it is given up. The old
 * server carries on whenever the new one misses one before it is ready.
 * Tests shorten them to see what a missed deadline does.
 */
export const DEADLINES = {
  /** Connecting to the old server and being greeted. */
  greetingMs: 5_000,
  /** Between the greeting and asking for the state (the new one checks its addresses). */
  decidingMs: 10_000,
  /** The old server saving its last changes and counters and letting the lock go. */
  releaseMs: 60_000,
  /** The new server taking the lock once it is free. */
  lockMs: 10_000,
  /** The new server loading the state and binding its listeners, as the old one waits. */
  readyMs: 120_000,
  /** The old server confirming that it stops accepting. */
  commitMs: 10_000,
  /** The old server taking its lock back after a failed takeover, before it ends the new one. */
  lockBackMs: 5_000,
  /** Beyond the old server's shutdown_grace: its last counters on its way out. */
  farewellMarginMs: 10_000,
};
