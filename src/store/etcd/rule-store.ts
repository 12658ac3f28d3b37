/**
 * Where rules are saved, by the `store` key: the state file alone, or etcd
 * with the state file as a local copy. Either way the server gets a `Save`
 * for its registry, the table to start with, and a health report.
 */
import type { StoredAdmin } from "../../backend/admin.ts";
import type { Config } from "../../config/config.ts";
import type { Save, SharedTable } from "../../rules/registry.ts";
import type { RuleSet } from "../../rules/schema.ts";
import type { LoadedState } from "../state-file.ts";
import { EtcdStore } from "./etcd-store.ts";
import { FILE_STORE_HEALTH, type StoreHealth } from "./health.ts";

export interface RuleStore {
  readonly save: Save;
  /** The rules and backend states to start with. */
  readonly rules: RuleSet;
  readonly backends: Record<string, StoredAdmin>;
  /** Where they came from, for the log. */
  readonly source: string;
  /** Starts following the shared store into the registry made from `rules`. */
  follow(table: SharedTable): void;
  health(): StoreHealth;
  /** Stops following; the state file is closed by its owner. */
  close(): Promise<void>;
}

/** The state file as opened: what it held, and how to save to it. */
export interface StateFile {
  loaded: LoadedState;
  save: Save;
}

export async function openRuleStore(config: Config, file: StateFile): Promise<RuleStore> {
  const cached = file.loaded;
  if (config.store === "file") {
    return {
      save: file.save,
      rules: cached.hosts,
      backends: cached.backends,
      source: config.stateFile + (cached.fresh ? " (new file)" : ""),
      follow: () => {},
      health: () => FILE_STORE_HEALTH,
      close: async () => {},
    };
  }
  const etcd = await EtcdStore.open(config);
  const initial = etcd.initial(cached);
  const at = etcd.loadedRevision;
  return {
    save: etcd.save,
    rules: initial.rules,
    backends: initial.backends,
    source:
      at === null
        ? `the cache ${config.stateFile} (etcd is unreachable)`
        : `etcd at revision ${at} (${config.etcdEndpoints.join(", ")})`,
    follow: (table) => etcd.start(table, file.save, cached.backends),
    health: () => etcd.health(),
    close: () => etcd.close(),
  };
}
