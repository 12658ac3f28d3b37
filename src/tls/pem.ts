/** PEM text cut into its blocks, so a chain, a key, or a file holding both can be told apart. */

export interface PemBlock {
  /** What the block says it is: `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`, ... */
  readonly label: string;
  /** The whole block, from its BEGIN line to its END line. */
  readonly text: string;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

/** Every whole block in `text`, in order; text around them is ignored, as OpenSSL does. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK_RE)].map((match) => ({
    label: match[1]!,
    text: match[0].replace(/\r\n/g, "\n"),
  }));
}

/** Blocks begun and never ended: a file being written, or one cut short. */
export function unendedBlocks(text: string, blocks = pemBlocks(text)): number {
  const begun = text.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  return begun - blocks.length;
}

/**
 * The parts joined into a string of its own. A block cut out of a file shares
 * the file's text (JavaScriptCore keeps substrings as views), so a key kept
 * for as long as it serves would keep its whole file alive.
 */
export function detached(...parts: string[]): string {
  return parts.join("");
}

export function isKeyLabel(label: string): boolean {
  return label.endsWith("PRIVATE KEY");
}

/** A chain and a key as one file: the chain first, then the key. */
export function joinPem(cert: string, key: string): string {
  return `${cert.trimEnd()}\n${key.trimEnd()}\n`;
}

/** A file holding both, cut in two: its certificates (in order) and its key blocks. */
export function splitPem(text: string): { cert: string; key: string } {
  const blocks = pemBlocks(text);
  const of = (keep: (block: PemBlock) => boolean) =>
    blocks
      .filter(keep)
      .map((block) => `${block.text}\n`)
      .join("");
  return {
    cert: of((block) => !isKeyLabel(block.label)),
    key: of((block) => isKeyLabel(block.label)),
  };
}
