/** The widest a column gets before its cells are cut. */
const MAX_WIDTH = 60;

/** A plain-text table: a header line, then one line per row, columns padded and separated by two spaces. */
export function formatTable<C extends string>(columns: readonly C[], rows: ReadonlyArray<Record<C, unknown>>): string[] {
  const widths = columns.map((c) => Math.min(MAX_WIDTH, Math.max(c.length, ...rows.map((r) => String(r[c]).length))));
  const line = (cells: string[]) => cells.map((cell, i) => cell.slice(0, widths[i]).padEnd(widths[i]!)).join("  ").trimEnd();
  return [line([...columns]), ...rows.map((r) => line(columns.map((c) => String(r[c]))))];
}
