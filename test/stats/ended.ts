/** Ended requests for observers under test, as the transaction reports them. */
import { BackendState } from "../../src/backend/state.ts";
import type { RequestEnd } from "../../src/stats/request-end.ts";

/** A request as the transaction reports it, with what a test changes. */
export function ended(overrides: Partial<Omit<RequestEnd, "target">> & { path?: string } = {}) {
  const { path = "/index.html", ...rest } = overrides;
  const request: RequestEnd = {
    startedAt: 1000,
    endedAt: 1012.3456,
    status: 200,
    completed: true,
    bytesIn: 88,
    bytesOut: 612,
    stats: null,
    ruleKey: "app.example.com",
    host: "app.example.com",
    method: "GET",
    backend: new BackendState("10.0.0.5:8000"),
    attempts: 1,
    headMs: 9.87654,
    heldMs: 0,
    target: () => path,
    clientAddress: "203.0.113.7",
    ...rest,
  };
  return request;
}
