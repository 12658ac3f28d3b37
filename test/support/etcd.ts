/**
 * Real etcd servers for tests (Debian's etcd-server): one member, or a cluster
 * of three, on free loopback ports with a temp data folder, stopped and
 * removed when the test is done (and killed when the test run ends).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./backend.ts";
import { waitFor } from "./wait.ts";

const started = new Set<Subprocess>();
process.on("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

export interface EtcdMember {
  name: string;
  /** The client URL, `http://127.0.0.1:<port>`. */
  endpoint: string;
  running(): boolean;
  /** Stops the member (SIGTERM, or SIGKILL as a crash) and waits for it to exit. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  /** Everything it logged. */
  log(): string;
}

export interface TestEtcd {
  members: EtcdMember[];
  /** Every member's client URL. */
  endpoints: string[];
  /** The member that leads now (asked of the members that run). */
  leader(): Promise<EtcdMember>;
  /** Waits until the members that run have a leader and answer. */
  ready(limitMs?: number): Promise<void>;
  /** Runs `etcdctl` against the cluster; throws with its output when it fails. */
  ctl(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A single-member etcd. */
export function startEtcd(): Promise<TestEtcd> {
  return startEtcdCluster(1);
}

export async function startEtcdCluster(size = 3): Promise<TestEtcd> {
  const dir = await mkdtemp(join(tmpdir(), "mantrid-etcd-"));
  const specs: { name: string; client: number; peer: number }[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  }
  const cluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(",");
  const members = specs.map((spec) =>
    member(spec.name, [
      "--name",
      spec.name,
      "--data-dir",
      join(dir, spec.name),
      "--listen-client-urls",
      `http://127.0.0.1:${spec.client}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${spec.client}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${spec.peer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${spec.peer}`,
      "--initial-cluster",
      cluster,
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      `mantrid-test-${specs[0]!.peer}`,
      // A lost leader is replaced within about a second.
      "--heartbeat-interval",
      "50",
      "--election-timeout",
      "500",
    ]),
  );
  const endpoints = members.map((m) => m.endpoint);
  const etcd: TestEtcd = {
    members,
    endpoints,
    async leader() {
      for (const m of members.filter((one) => one.running())) {
        const status = await memberStatus(m.endpoint).catch(() => null);
        if (status === null || status.leader === "0") continue;
        for (const candidate of members.filter((one) => one.running())) {
          const own = await memberStatus(candidate.endpoint).catch(() => null);
          if (own?.header.member_id === status.leader) return candidate;
        }
      }
      throw new Error("no etcd member leads");
    },
    async ready(limitMs = 20_000) {
      const up = members.filter((m) => m.running());
      await waitFor(
        async () => {
          const answers = await Promise.all(up.map((m) => healthy(m.endpoint)));
          return answers.every(Boolean);
        },
        "etcd to answer with a leader",
        limitMs,
      ).catch((error) => {
        const logs = members.map((m) => `--- ${m.name}\n${m.log().slice(-3000)}`).join("\n");
        throw new Error(`${(error as Error).message}\n${logs}`);
      });
    },
    async ctl(...args) {
      const run = Bun.spawn(["etcdctl", "--endpoints", endpoints.join(","), ...args], {
        env: { ...process.env, ETCDCTL_API: "3" },
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
      });
      const [out, err, code] = await Promise.all([
        new Response(run.stdout).text(),
        new Response(run.stderr).text(),
        run.exited,
      ]);
      if (code !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${err}${out}`);
      return out;
    },
    async close() {
      await Promise.all(members.map((m) => m.stop("SIGKILL")));
      await rm(dir, { recursive: true, force: true });
    },
  };
  await Promise.all(members.map((m) => m.start()));
  await etcd.ready();
  return etcd;
}

function member(name: string, args: string[]): EtcdMember {
  const endpoint = args[args.indexOf("--advertise-client-urls") + 1]!;
  let child: Subprocess<"ignore", "ignore", "pipe"> | null = null;
  let text = "";
  return {
    name,
    endpoint,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    async start() {
      const spawned = Bun.spawn(["etcd", ...args], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "pipe",
      });
      child = spawned;
      started.add(spawned);
      void spawned.exited.then(() => started.delete(spawned));
      void (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of spawned.stderr) text += decoder.decode(chunk);
      })();
    },
    async stop(signal = "SIGTERM") {
      const spawned = child;
      if (spawned === null) return;
      if (spawned.exitCode === null && spawned.signalCode === null) spawned.kill(signal);
      await spawned.exited;
    },
    log: () => text,
  };
}

interface MemberStatus {
  header: { member_id: string };
  leader: string;
}

/** Through etcd's JSON gateway, which every member serves on its client URL. */
async function memberStatus(endpoint: string): Promise<MemberStatus> {
  const response = await fetch(`${endpoint}/v3/maintenance/status`, {
    method: "POST",
    body: "{}",
    signal: AbortSignal.timeout(2000),
  });
  if (!response.ok) throw new Error(`${endpoint}: ${response.status}`);
  return (await response.json()) as MemberStatus;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { health?: string };
    return response.ok && body.health === "true";
  } catch {
    return false;
  }
}
