/** What the modes that run rounds share. */

/** `items` started `by` places later, so slow drift of the machine falls on all of them alike. */
export function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** A line of progress on stderr, so stdout holds the results alone. */
export function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}
