/**
 * The packaging matrix's summary: one row per cell (set-up, runtime or bundler version, result,
 * first-step time), recorded whatever the cell's outcome and printed as one table at the end.
 */
import type { TrainResult } from './fixtures/shared/training-loop.mjs';

export interface Row {
  cell: string;
  version: string;
  result: string;
  /** create() to the end of the first step, from the cell's first (SIMD) run. */
  firstStepMs?: number;
}

const rows: Row[] = [];

/** Skips a cell whose runtime or bundler could not be had here: the reason is printed now, listed in the table and shown by the reporter. */
export function skipCell(ctx: { skip(note: string): never }, cell: string, reason: string): never {
  console.warn(`[packaging matrix] skipped ${cell}: ${reason}`);
  rows.push({ cell, version: '-', result: `skipped: ${reason}` });
  return ctx.skip(reason);
}

/**
 * Runs one cell's body and records its row: "ok" and the first result's timing, or the first
 * line of the error it failed with. The error is rethrown, so the test still fails.
 */
export async function recordCell(cell: string, version: string | (() => Promise<string>), body: () => Promise<TrainResult | undefined>): Promise<void> {
  const row: Row = { cell, version: typeof version === 'string' ? version : '?', result: 'ok' };
  rows.push(row);
  try {
    if (typeof version !== 'string') row.version = await version();
    row.firstStepMs = (await body())?.firstStepMs;
  } catch (e) {
    // An assertion's message is generic ("expected … to deeply equal …"): show the error the
    // runtime reported (the `{ error }` a page or worker answered, or a process's stderr) instead.
    const { message, actual } = e as Error & { actual?: unknown };
    const answered = typeof actual === 'object' && actual !== null && 'error' in actual ? String(actual.error) : undefined;
    const stderr = message.split('--- stderr ---\n')[1]?.replace(/\x1b\[[0-9;]*m/g, '') ?? '';
    const printed = /^(?:[\w ]*Error\b|error:)[^\n]*/m.exec(stderr)?.[0] ?? /(AdadeltaError|TypeError|Error): [^\n]*/.exec(message)?.[0];
    row.result = `FAIL: ${(answered ?? printed ?? message.split('\n')[0]!).slice(0, 200)}`;
    throw e;
  }
}

export function printTable(): void {
  if (rows.length === 0) return;
  const cells = rows.map((r) => [r.cell, r.version, r.firstStepMs === undefined ? '' : `${r.firstStepMs.toFixed(1)} ms`, r.result]);
  const head = ['set-up', 'version', 'first step', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  console.log(['packaging matrix:', line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
}
