// How commands print: results on stdout (plain text, aligned tables or JSON), everything else on stderr.

/** Where a command writes; stdout holds only the result, so `--json` output can be piped. */
export interface Output {
  /** Writes one line (or several) of result to stdout. */
  out(text: string): void;
  /** Writes notes and messages for the person at the terminal to stderr. */
  err(text: string): void;
}

/** Creates an Output on the process's stdout and stderr. */
export function createProcessOutput(): Output {
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
  };
}

/** Prints `value` as indented JSON on stdout. */
export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2));
}

/** Formats rows as a left-aligned table with a header row; cells have line breaks and tabs replaced by spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const clean = (cell: string) => cell.replace(/[\t\r\n]+/g, ' ');
  const all = [headers, ...rows].map((row) => row.map(clean));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => [...(row[column] ?? '')].length)));
  return all
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - [...cell].length))).join('  '))
    .join('\n');
}

/** A timestamp as "2026-12-04 10:30" (UTC), short enough for a table. */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}
