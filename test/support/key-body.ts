/** The base64 lines of a PEM key: no answer, log line or message may hold any of them. */
export function keyBody(pem: string): string[] {
  return pem
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("-----"));
}

/** The first of `lines` that `text` holds, or undefined. */
export function leakedLine(text: string, lines: readonly string[]): string | undefined {
  return lines.find((line) => text.includes(line));
}
