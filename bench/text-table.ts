/**
 * A plain text table: the first `textColumns` columns left-aligned, the others
 * right-aligned; an empty line in `lines` stays a blank line.
 */
export function textTable(header: string[], lines: string[][], textColumns = 1): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => (line[column] ?? "").length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column < textColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join("  ")
      .trimEnd();
  return [
    render(header),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...lines.map((line) => (line.length === 0 ? "" : render(line))),
  ];
}
