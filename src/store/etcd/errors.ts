/** A write the shared store did not take; the management API answers 503 with its message. */
export class SharedStoreError extends Error {
  override name = "SharedStoreError";
  readonly status = 503;
}
