/** The load scenarios: what each request looks like and how to check one answer. */
import { join } from "node:path";
import { API_BODY_BYTES, LARGE_BYTES, SMALL_BODY, UPLOAD_BYTES } from "./configs.ts";

export interface Scenario {
  name: string;
  description: string;
  method: "GET" | "POST";
  path: string;
  /** Extra request headers (Host is added per target). */
  headers: Record<string, string>;
  /** Bytes of request body per request (0 for GET). */
  bodyBytes: number;
  /** A wrk Lua script that sets the method and body, if any. */
  wrkScript?: string;
  /** True when each request uses a new connection. */
  newConnection: boolean;
  /** Whether one response is the expected one. */
  accepts(status: number, body: Uint8Array): boolean;
}

const text = (body: Uint8Array) => new TextDecoder().decode(body);

export const SCENARIOS: Scenario[] = [
  {
    name: "keepalive-small",
    description: "GET /small (6-byte body) on keep-alive connections",
    method: "GET",
    path: "/small",
    headers: {},
    bodyBytes: 0,
    newConnection: false,
    accepts: (status, body) => status === 200 && text(body) === SMALL_BODY,
  },
  {
    name: "close-small",
    description: "GET /small with Connection: close (a new connection per request)",
    method: "GET",
    path: "/small",
    headers: { Connection: "close" },
    bodyBytes: 0,
    newConnection: true,
    accepts: (status, body) => status === 200 && text(body) === SMALL_BODY,
  },
  {
    name: "keepalive-100k",
    description: "GET /100k (100 KiB body) on keep-alive connections",
    method: "GET",
    path: "/100k",
    headers: {},
    bodyBytes: 0,
    newConnection: false,
    accepts: (status, body) => status === 200 && body.byteLength === LARGE_BYTES,
  },
  {
    name: "upload-1m",
    description: "POST /upload with a 1 MiB body on keep-alive connections",
    method: "POST",
    path: "/upload",
    headers: { "Content-Type": "application/octet-stream" },
    bodyBytes: UPLOAD_BYTES,
    wrkScript: join(import.meta.dir, "upload.lua"),
    newConnection: false,
    accepts: (status, body) => status === 200 && text(body).startsWith("ok"),
  },
  {
    name: "post-1k",
    description: "POST /api with a 1 KiB body on keep-alive connections (an API call)",
    method: "POST",
    path: "/api",
    headers: { "Content-Type": "application/json" },
    bodyBytes: API_BODY_BYTES,
    wrkScript: join(import.meta.dir, "post-1k.lua"),
    newConnection: false,
    accepts: (status, body) => status === 200 && text(body).startsWith("ok"),
  },
];

export function scenarioNamed(name: string): Scenario {
  const found = SCENARIOS.find((scenario) => scenario.name === name);
  if (!found) {
    throw new Error(
      `unknown scenario "${name}" (known: ${SCENARIOS.map((s) => s.name).join(", ")})`,
    );
  }
  return found;
}
