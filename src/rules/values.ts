/** Option values as a command line types them: numbers and flags arrive as strings. */
import * as v from "valibot";

/** A number, or a string holding one (as the command line sends it). */
export function numeric(message: string) {
  return v.pipe(
    v.union(
      [
        v.number(message),
        v.pipe(
          v.string(message),
          v.trim(),
          v.regex(/^-?\d+(?:\.\d+)?$/, message),
          v.transform(Number),
        ),
      ],
      message,
    ),
    v.finite(message),
  );
}

/** true or false, or the strings a command line sends for them. */
export function flag(message: string) {
  return v.union(
    [
      v.boolean(message),
      v.pipe(
        v.picklist(["true", "false"], message),
        v.transform((text) => text === "true"),
      ),
    ],
    message,
  );
}

/** A whole number from 0 to 1,000,000. */
export const Count = (name: string) =>
  v.pipe(
    numeric(`${name} must be a number`),
    v.integer(`${name} must be an integer`),
    v.minValue(0, `${name} must not be negative`),
    v.maxValue(1_000_000, `${name} is at most 1000000`),
  );
