/** One line naming the first bad field: shared by the API's answers and the client's checks. */
import type { Problem } from "../rules/schema.ts";

export function pathText(path: readonly string[]): string {
  return path.join("/");
}

export function summarise(what: string, problems: readonly Problem[]): string {
  const first = problems[0];
  if (!first) return `invalid ${what}`;
  const where = first.path.length > 0 ? ` at ${pathText(first.path)}` : "";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `invalid ${what}${where}: ${first.message}${more}`;
}
