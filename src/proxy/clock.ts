/**
 * A coarse clock for timeouts: the sweep that checks them sets it on each pass,
 * so the request path reads a number instead of asking for the time.
 */
export const clock = { now: performance.now() };
