/**
 * GitHub-flavoured Markdown tables, padded so the source also reads as a table in a terminal
 * (the bench prints the same text to the console that it writes into report.md).
 */

export type Align = 'left' | 'right' | 'center';

export interface Column {
  header: string;
  /** Numbers read best right-aligned; default left. */
  align?: Align;
}

/** `|` inside a cell would end the cell; newlines would end the row. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function pad(text: string, width: number, align: Align): string {
  const gap = width - [...text].length;
  if (gap <= 0) return text;
  if (align === 'right') return ' '.repeat(gap) + text;
  if (align === 'center') {
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + text + ' '.repeat(gap - left);
  }
  return text + ' '.repeat(gap);
}

function rule(width: number, align: Align): string {
  const dashes = Math.max(3, width);
  if (align === 'right') return `${'-'.repeat(dashes - 1)}:`;
  if (align === 'center') return `:${'-'.repeat(dashes - 2)}:`;
  return '-'.repeat(dashes);
}

/**
 * Render a table. Columns may be plain header strings (left-aligned) or {header, align}. Rows
 * shorter than the header are padded with empty cells; longer rows are an error in the caller,
 * so they throw rather than silently losing data.
 */
export function markdownTable(
  columns: readonly (string | Column)[],
  rows: readonly (readonly string[])[],
): string {
  const cols: Required<Column>[] = columns.map((c) =>
    typeof c === 'string' ? { header: c, align: 'left' } : { header: c.header, align: c.align ?? 'left' },
  );
  const cells = rows.map((row, i) => {
    if (row.length > cols.length) {
      throw new Error(`row ${i} has ${row.length} cells but the table has ${cols.length} columns`);
    }
    return cols.map((_, j) => escapeCell(row[j] ?? ''));
  });
  const headers = cols.map((c) => escapeCell(c.header));
  const widths = cols.map((c, j) =>
    Math.max(3, [...(headers[j] ?? '')].length, ...cells.map((r) => [...(r[j] ?? '')].length)),
  );
  const line = (parts: string[]) => `| ${parts.join(' | ')} |`;
  return [
    line(headers.map((h, j) => pad(h, widths[j] ?? 3, cols[j]?.align ?? 'left'))),
    line(cols.map((c, j) => rule(widths[j] ?? 3, c.align))),
    ...cells.map((r) => line(r.map((cell, j) => pad(cell, widths[j] ?? 3, cols[j]?.align ?? 'left')))),
  ].join('\n');
}
