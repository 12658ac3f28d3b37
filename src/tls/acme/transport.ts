/**
 * How acme-client reaches the CA. The library sends every request through one
 * shared axios instance; here that instance's requests go through Bun's fetch,
 * which takes the CA to trust (`acme_ca_root`) per request, with a deadline
 * and the abort signal of the order they belong to. Which order a request
 * belongs to travels with the async context, so orders for different names,
 * or servers with different CAs in one process, never mix.
 *
 * The library's own retry handler turns any failure that came without a
 * response (refused, timed out, untrusted certificate) into a TypeError that
 * has lost the reason; a failure thrown here as a plain Error passes that
 * handler untouched, so the log can say what really went wrong.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as acme from "acme-client";

/** What the requests of one order share. */
export interface CaLink {
  /** PEM certificates to trust for the CA's HTTPS; null: the system's. */
  readonly ca: string | null;
  /** Aborted when the order is given up (its deadline, a stop, its rule gone). */
  readonly signal: AbortSignal;
  /** The deadline of each request. */
  readonly requestTimeoutMs: number;
}

const links = new AsyncLocalStorage<CaLink>();

/** Runs `work` (an order) with its requests sent over `link`. */
export function overLink<T>(link: CaLink, work: () => Promise<T>): Promise<T> {
  useFetch();
  return links.run(link, work);
}

type AxiosDefaults = typeof acme.axios.defaults;
type Adapter = Extract<NonNullable<AxiosDefaults["adapter"]>, (...args: never[]) => unknown>;
type RequestConfig = Parameters<Adapter>[0];

const DEFAULT_LINK: CaLink = {
  ca: null,
  signal: new AbortController().signal,
  requestTimeoutMs: 30_000,
};

let installed = false;

function useFetch(): void {
  if (installed) return;
  installed = true;
  acme.axios.defaults.adapter = fetchAdapter as Adapter;
  // One quick retry of a 5xx or 429 (after its Retry-After); the renewal's own
  // back-off does the rest.
  const settings = (acme.axios.defaults as AxiosDefaults & { acmeSettings: AcmeSettings })
    .acmeSettings;
  settings.retryMaxAttempts = 1;
  settings.retryDefaultDelay = 1;
}

interface AcmeSettings {
  retryMaxAttempts: number;
  retryDefaultDelay: number;
}

async function fetchAdapter(config: RequestConfig) {
  const link = links.getStore() ?? DEFAULT_LINK;
  const method = (config.method ?? "get").toUpperCase();
  const url = config.url ?? "";
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers.toJSON())) {
    if (value !== null && value !== undefined) headers[name] = String(value);
  }
  const timeout = AbortSignal.timeout(link.requestTimeoutMs);
  const signal = AbortSignal.any([link.signal, timeout]);
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: typeof config.data === "string" ? config.data : undefined,
      signal,
      redirect: "manual",
      tls: link.ca === null ? undefined : { ca: link.ca },
    });
    const body = await response.text();
    return {
      data: body,
      status: response.status,
      statusText: response.statusText,
      headers: Object.fromEntries(response.headers),
      config,
      request: {},
    };
  } catch (error) {
    const reason = timeout.aborted
      ? `no answer within ${link.requestTimeoutMs / 1000} s`
      : link.signal.aborted
        ? "given up"
        : describeFailure(error);
    throw new Error(`${method} ${url}: ${reason}`);
  }
}

/** Bun's fetch errors carry a code (ConnectionRefused, SELF_SIGNED_CERT_IN_CHAIN...). */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}
