/** One request per scenario and target before any load: a wrong answer stops the run. */
import type { Scenario } from "./scenarios.ts";

export interface Target {
  name: string;
  port: number;
  pid: number;
}

export function targetUrl(target: Target, scenario: Scenario): string {
  return `http://127.0.0.1:${target.port}${scenario.path}`;
}

/** Sends one request of `scenario` to `target`; throws with what came back if it is wrong. */
export async function checkTarget(target: Target, scenario: Scenario, host: string): Promise<void> {
  const body = scenario.bodyBytes > 0 ? new Uint8Array(scenario.bodyBytes).fill(120) : undefined;
  let status: number;
  let received: Uint8Array;
  try {
    const response = await fetch(targetUrl(target, scenario), {
      method: scenario.method,
      headers: { ...scenario.headers, Host: host },
      body,
      keepalive: !scenario.newConnection,
      signal: AbortSignal.timeout(10_000),
    });
    status = response.status;
    received = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`${target.name} failed ${scenario.name}: ${(error as Error).message}`);
  }
  if (!scenario.accepts(status, received)) {
    const preview = new TextDecoder().decode(received.subarray(0, 200));
    throw new Error(
      `${target.name} answered ${scenario.name} wrongly: ${status}, ${received.byteLength} bytes: ${preview}`,
    );
  }
}
