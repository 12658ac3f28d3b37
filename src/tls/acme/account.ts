/**
 * The ACME account key: made once (ECDSA P-256) and kept with the
 * certificates (`certificates/extra/acme-account.key`, 0600), so every order,
 * across restarts, is placed by the same account.
 */
import * as acme from "acme-client";
import type { CertificateStore } from "../store.ts";

export const ACCOUNT_KEY_FILE = "acme-account.key";

export async function accountKey(
  store: Pick<CertificateStore, "readExtra" | "writeExtra">,
): Promise<string> {
  const kept = await store.readExtra(ACCOUNT_KEY_FILE);
  if (kept !== null) return kept;
  const made = (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
  await store.writeExtra(ACCOUNT_KEY_FILE, made);
  return made;
}
