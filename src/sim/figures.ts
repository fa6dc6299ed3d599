/** Small statistics for the simulator's report. */

/** The p-th percentile (0-100) of `xs` by nearest rank; 0 for no samples. */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  if (xs.length === 0) return 0
  const sorted = [...xs].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

/** p50 and p99 of a sample, rounded to whole numbers. */
export const p50p99 = (xs: ReadonlyArray<number>): { readonly p50: number; readonly p99: number } => ({
  p50: Math.round(percentile(xs, 50)),
  p99: Math.round(percentile(xs, 99))
})
