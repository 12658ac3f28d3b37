/** A plain text table: the first column left-aligned, the others right-aligned. */
export function textTable(header: string[], lines: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join("  ");
  return [
    render(header),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...lines.map(render),
  ];
}
