/** The two ways the client stops: a wrong command line (exit 2) or a failed operation (exit 1). */
export class UsageError extends Error {
  override name = "UsageError";
}

export class Failure extends Error {
  override name = "Failure";
}
