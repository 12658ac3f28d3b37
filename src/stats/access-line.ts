/**
 * One line of the access log: a JSON object on one line, ending in "\n".
 *
 * {"time":"2025-06-01T12:00:00.123Z","client":"203.0.113.7","host":"app.example.com",
 *  "method":"GET","target":"/","status":200,"completed":true,"bytes_in":88,"bytes_out":612,
 *  "rule":"app.example.com","backend":"10.0.0.5:8000","attempts":1,"head_ms":1.234,
 *  "total_ms":1.802,"held_ms":0}
 *
 * Strings go through JSON.stringify, so a quote, a backslash or a control
 * character in a target cannot break the line.
 */
import type { RequestEnd } from "./request-end.ts";

/** Milliseconds to the microsecond, written from integers (a double's digits cost more). */
function ms(value: number): string {
  const micros = Math.round(value * 1000);
  if (micros <= 0) return "0";
  const fraction = micros % 1000;
  const whole = (micros - fraction) / 1000;
  if (fraction === 0) return `${whole}`;
  // No trailing zeros: 2.05, not 2.050.
  if (fraction % 100 === 0) return `${whole}.${fraction / 100}`;
  if (fraction % 10 === 0) return `${whole}.${fraction < 100 ? "0" : ""}${fraction / 10}`;
  return `${whole}.${fraction < 10 ? "00" : fraction < 100 ? "0" : ""}${fraction}`;
}

/** Requests ending in the same millisecond share its text. */
let lastMillisecond = -1;
let lastTime = "";

function timeOf(endedAt: number): string {
  const millisecond = Math.floor(performance.timeOrigin + endedAt);
  if (millisecond !== lastMillisecond) {
    lastMillisecond = millisecond;
    lastTime = new Date(millisecond).toISOString();
  }
  return lastTime;
}

export function formatAccessLine(request: RequestEnd): string {
  const rule = request.ruleKey === null ? "null" : JSON.stringify(request.ruleKey);
  const backend = request.backend === null ? "null" : JSON.stringify(request.backend.key);
  const head = request.headMs < 0 ? "null" : ms(request.headMs);
  return (
    `{"time":"${timeOf(request.endedAt)}","client":${JSON.stringify(request.clientAddress)},` +
    `"host":${JSON.stringify(request.host)},"method":${JSON.stringify(request.method)},` +
    `"target":${JSON.stringify(request.target())},"status":${request.status},` +
    `"completed":${request.completed},"bytes_in":${request.bytesIn},` +
    `"bytes_out":${request.bytesOut},"rule":${rule},"backend":${backend},` +
    `"attempts":${request.attempts},"head_ms":${head},` +
    `"total_ms":${ms(request.endedAt - request.startedAt)},"held_ms":${ms(request.heldMs)}}\n`
  );
}
