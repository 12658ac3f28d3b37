/** What a restarted server would load from a state file: its snapshot, with its change log replayed. */
import type { LoadedState } from "../../src/store/state-file.ts";
import { openStateStore } from "../../src/store/state-log.ts";

/**
 * Opens the store as start-up does, and closes it again. Like start-up it cuts a
 * torn last log record and removes leftovers of a cut-short compaction, so it is
 * for when no compaction is under way (a store compacts in the background only
 * after thousands of changes).
 */
export async function stateAfterRestart(path: string): Promise<LoadedState> {
  const store = await openStateStore(path);
  await store.close();
  return store.loaded;
}
