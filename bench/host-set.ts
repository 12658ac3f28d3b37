/** Many hostnames with one proxy rule each, as a JSON rule set or a whole state file. */

/** The i-th hostname of a generated set. */
export function hostName(index: number): string {
  return `h${index}.bench.test`;
}

/**
 * `{"h0.bench.test": rule, ...}` for `count` hosts, built as text in pieces
 * (a million rules are tens of megabytes).
 */
export function ruleSetJson(count: number, rule: unknown): string {
  const ruleText = JSON.stringify(rule);
  const pieces: string[] = [];
  let chunk: string[] = [];
  for (let index = 0; index < count; index++) {
    chunk.push(`${JSON.stringify(hostName(index))}:${ruleText}`);
    if (chunk.length === 10_000) {
      pieces.push(chunk.join(","));
      chunk = [];
    }
  }
  if (chunk.length > 0) pieces.push(chunk.join(","));
  return `{${pieces.join(",")}}`;
}

/** A state file in Mantrid's format holding `ruleSet` (JSON text) and no stats. */
export function stateFileJson(ruleSet: string): string {
  return `{"hosts":${ruleSet},"stats":{}}`;
}
