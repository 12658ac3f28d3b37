/** Runs `action` with stderr caught; returns what it wrote there. */
export function stderrOf(action: () => void): string {
  const write = process.stderr.write;
  let written = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    action();
  } finally {
    process.stderr.write = write;
  }
  return written;
}
