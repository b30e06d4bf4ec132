/**
 * A scrolling window over a list: which items fit in `size` rows with the cursor in view.
 * Pure, for the catalog and the compare matrix (rows and columns).
 */
export function windowAround(total: number, cursor: number, size: number): { start: number; end: number } {
  const n = Math.max(1, size);
  if (total <= n) return { start: 0, end: total };
  const start = Math.max(0, Math.min(total - n, cursor - Math.floor(n / 2)));
  return { start, end: start + n };
}
