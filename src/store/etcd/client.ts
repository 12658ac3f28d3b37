/**
 * The etcd client (the `etcd3` package, over gRPC), made from the config, and
 * the deadlines every call runs under. The package is loaded only when the
 * etcd store is chosen, so the file store pays nothing for it.
 */
import { readFileSync } from "node:fs";
import type { Etcd3, IOptions } from "etcd3";
import type { Config } from "../../config/config.ts";
import { ConfigError } from "../../config/config.ts";

/** A read or a write of one batch. */
export const CALL_MS = 5_000;
/** One page of a whole-table read. */
export const PAGE_MS = 30_000;
/** From asking for a watch to etcd confirming it. */
export const WATCH_CONNECT_MS = 5_000;

export type EtcdModule = typeof import("etcd3");

export interface EtcdClient {
  readonly etcd: Etcd3;
  readonly module: EtcdModule;
  /** True for an error that says nothing of etcd being reachable (refused permission, a bad request). */
  isRefusal(error: unknown): boolean;
  close(): void;
}

export type EtcdSettings = Pick<
  Config,
  | "etcdEndpoints"
  | "etcdCa"
  | "etcdCert"
  | "etcdKey"
  | "etcdUsername"
  | "etcdPassword"
  | "etcdPrefix"
>;

export function deadline(ms: number): { deadline: number } {
  return { deadline: Date.now() + ms };
}

export async function openEtcdClient(settings: EtcdSettings): Promise<EtcdClient> {
  const module = await import("etcd3");
  const options: IOptions = {
    hosts: settings.etcdEndpoints,
    dialTimeout: CALL_MS,
    // Streams (the watch) live on; every other call has a deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : deadline(CALL_MS)),
    grpcOptions: {
      // A page of a large table, or a watch answer for a large transaction.
      "grpc.max_receive_message_length": 256 * 1024 * 1024,
      // A silently dead connection is found within seconds (etcd allows pings every 5 s).
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
    },
  };
  const credentials = readCredentials(settings);
  if (credentials !== null) options.credentials = credentials;
  if (settings.etcdUsername !== null) {
    options.auth = {
      username: settings.etcdUsername,
      password: settings.etcdPassword ?? "",
      callOptions: () => deadline(CALL_MS),
    };
  }
  const etcd = new module.Etcd3(options);
  const refusals = [
    module.EtcdPermissionDeniedError,
    module.EtcdAuthenticationFailedError,
    module.EtcdInvalidAuthTokenError,
    module.GRPCInvalidArgumentError,
    module.GRPCResourceExhastedError,
  ];
  return {
    etcd,
    module,
    isRefusal: (error) => refusals.some((kind) => error instanceof kind),
    close: () => etcd.close(),
  };
}

function readCredentials(settings: EtcdSettings): IOptions["credentials"] | null {
  const read = (path: string | null, what: string): Buffer | undefined => {
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`cannot read ${what} ${path}: ${(error as Error).message}`);
    }
  };
  const ca = read(settings.etcdCa, "etcd_ca");
  const cert = read(settings.etcdCert, "etcd_cert");
  const key = read(settings.etcdKey, "etcd_key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError("etcd_cert and etcd_key go together: set both or neither");
  }
  if (ca === undefined && cert === undefined) return null;
  // Without etcd_ca, the system's CAs are trusted (gRPC takes null for that).
  return { rootCertificate: ca as Buffer, privateKey: key, certChain: cert };
}

/** An error's message, for logs and answers. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
