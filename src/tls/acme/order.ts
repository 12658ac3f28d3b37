/**
 * One certificate from the CA, with acme-client's order calls: register (or
 * find) the account, order the name, answer its challenge through the
 * listeners' ChallengeBook (http-01 on the plain listeners, or tls-alpn-01 on
 * the TLS ones), finalize with a fresh ECDSA P-256 key, download the chain.
 *
 * Not acme-client's `auto()`: it first checks each challenge itself through
 * the system's DNS (which hangs where that DNS cannot see the name), and it
 * polls with its own back-off and no overall deadline. Here each step is one
 * library call, every poll is bounded by the order's signal, and each failure
 * says which step failed and why.
 */
import * as acme from "acme-client";
import type { ChallengeBook } from "../challenges.ts";

/** How the CA is to check the name: over plain HTTP (port 80) or TLS (port 443). */
export type ChallengeType = "http-01" | "tls-alpn-01";

import { alpnCertificate } from "../alpn/certificate.ts";
import { pollUntil } from "./poll.ts";

export interface OrderSetup {
  readonly directoryUrl: string;
  readonly accountKey: string;
  /** The account's contact; null for none. */
  readonly email: string | null;
  readonly challengeType: ChallengeType;
  /** Where answers are put for the listeners. */
  readonly challenges: ChallengeBook;
  /** Resolves once every process answers what was put there (workers copy the book). */
  readonly challengesServed: () => Promise<void>;
  /** Aborted at the order's deadline, or when it is given up. */
  readonly signal: AbortSignal;
}

export interface Issued {
  /** PEM chain, leaf first. */
  readonly cert: string;
  /** PEM private key of the leaf. */
  readonly key: string;
}

export async function orderCertificate(name: string, setup: OrderSetup): Promise<Issued> {
  // A client per order: a CA that lost its accounts (a test CA restarted) is simply joined again.
  const client = new acme.Client({
    directoryUrl: setup.directoryUrl,
    accountKey: setup.accountKey,
  });
  await step("register the account", () => register(client, setup.email));
  let order = await step("place the order", () =>
    client.createOrder({ identifiers: [{ type: "dns", value: name }] }),
  );
  const authorizations = await step("read the authorizations", () =>
    client.getAuthorizations(order),
  );
  for (const authorization of authorizations) {
    if (authorization.status !== "valid") await prove(client, authorization, setup);
  }
  order = await step("wait for the order", () =>
    pollUntil(
      () => client.getOrder(order),
      (found) => found.status !== "pending",
      setup.signal,
    ),
  );
  const key = (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
  const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, key);
  if (order.status === "ready") {
    const ready = order;
    order = await step("finalize the order", () => client.finalizeOrder(ready, csr));
  }
  const finalized = await step("wait for the certificate", () =>
    pollUntil(
      () => client.getOrder(order),
      (found) => found.status !== "processing",
      setup.signal,
    ),
  );
  if (finalized.status !== "valid") {
    throw new Error(`the order ended ${finalized.status}${problemOf(finalized.error)}`);
  }
  const cert = await step("download the certificate", () => client.getCertificate(finalized));
  return { cert, key };
}

/**
 * Finds the key's account, or makes it. Not `createAccount` alone: for a key
 * that has an account, it sends the same fields again as an update, which a
 * CA may refuse as an empty one (Pebble does).
 */
async function register(client: acme.Client, email: string | null): Promise<void> {
  const contact = email === null ? [] : [`mailto:${email}`];
  let account: { contact?: string[] };
  try {
    account = await client.createAccount({ onlyReturnExisting: true });
  } catch {
    // None for this key yet (the CA's words for it differ); a CA that is down fails here again.
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(email === null ? {} : { contact }),
    });
    return;
  }
  if (contact.some((one) => !(account.contact ?? []).includes(one))) {
    await client.updateAccount({ contact });
  }
}

/** Answers the name's challenge until the CA has looked at it. */
async function prove(
  client: acme.Client,
  authorization: acme.Authorization,
  setup: OrderSetup,
): Promise<void> {
  const name = authorization.identifier.value;
  const type = setup.challengeType;
  const challenge = authorization.challenges.find((offered) => offered.type === type);
  if (challenge === undefined) {
    const offered = authorization.challenges.map((one) => one.type).join(", ");
    throw new Error(`the CA offers no ${type} challenge for ${name} (only ${offered})`);
  }
  const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
  const withdraw = publish(name, challenge.token, keyAuthorization, setup);
  try {
    await step(`publish the ${type} answer`, setup.challengesServed);
    await step(`start the ${type} challenge`, () => client.completeChallenge(challenge));
    const [checked] = await step(`wait for the ${type} challenge`, () =>
      pollUntil(
        () => client.getAuthorizations({ authorizations: [authorization.url] } as acme.Order),
        ([found]) => found === undefined || found.status !== "pending",
        setup.signal,
      ),
    );
    if (checked?.status !== "valid") {
      const failed = checked?.challenges.find((one) => one.type === type);
      const where =
        type === "http-01"
          ? `http://${name}/.well-known/acme-challenge/${challenge.token}`
          : `${name} over TLS (port 443, ALPN acme-tls/1)`;
      throw new Error(`the CA could not check ${where}${problemOf(failed?.error)}`);
    }
  } finally {
    withdraw();
  }
}

/** Puts the answer where the listeners serve it; returns how to take it back. */
function publish(
  name: string,
  token: string,
  keyAuthorization: string,
  setup: OrderSetup,
): () => void {
  const book = setup.challenges;
  if (setup.challengeType === "http-01") {
    book.set(token, keyAuthorization);
    return () => book.delete(token);
  }
  const lower = name.toLowerCase();
  book.setAlpn(lower, alpnCertificate(name, keyAuthorization));
  return () => book.setAlpn(lower, null);
}

/** Runs one step; its failure says which step it was. */
async function step<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Error(`cannot ${what}: ${(error as Error).message}`);
  }
}

/** An ACME problem document (RFC 8555 §6.7) as `: detail`. */
function problemOf(error: object | undefined): string {
  if (error === undefined) return "";
  const { detail, type } = error as { detail?: unknown; type?: unknown };
  if (typeof detail === "string" && detail !== "") return `: ${detail}`;
  return typeof type === "string" ? `: ${type}` : "";
}
