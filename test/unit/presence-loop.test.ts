/** The presence loop's pure parts. */
import { describe, expect, it } from "@effect/vitest"
import { FIRST_WRITE_SPREAD_MS, startSpreadMs } from "../../src/app/presence-loop.js"

describe("startSpreadMs", () => {
  it("spreads session ids that differ only in their last character over the spread window", () => {
    // Regression: "s1".."s6" (the benchmark's sessions) all got 1,614-1,619 ms, so their first
    // writes went out together and lost compare-and-swap races.
    const delays = ["s1", "s2", "s3", "s4", "s5", "s6"].map(startSpreadMs)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThan(FIRST_WRITE_SPREAD_MS)
    }
    const sorted = [...delays].sort((a, b) => a - b)
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThan(FIRST_WRITE_SPREAD_MS / 2)
    expect(startSpreadMs("s1")).toBe(startSpreadMs("s1"))
  })
})
