/** Link state and reconnect backoff. */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { FAILED_AFTER, presenceRetryDelayMs, reconnectDelayMs, REJOIN_MAX_DELAY_MS, REJOIN_WINDOW_MS, stateAfterFailure } from "../../src/domain/link.js"

describe("reconnectDelayMs", () => {
  it("doubles from the base on each failure", () => {
    expect([1, 2, 3, 4, 5].map((n) => reconnectDelayMs(n, 1_000, 1_000_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000])
  })

  it("is capped at maxMs, however many failures", () => {
    expect(reconnectDelayMs(10, 1_000, 30_000)).toBe(30_000)
    expect(reconnectDelayMs(10_000, 1_000, 30_000)).toBe(30_000)
  })

  it("treats a zero or negative failure count as the first attempt", () => {
    expect(reconnectDelayMs(0, 1_000, 30_000)).toBe(1_000)
    expect(reconnectDelayMs(-3, 1_000, 30_000)).toBe(1_000)
  })

  it.prop(
    "never exceeds the cap and never shrinks as failures add up",
    [fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 600_000 })],
    ([failures, baseMs, extra]) => {
      const maxMs = baseMs + extra
      const d = reconnectDelayMs(failures, baseMs, maxMs)
      expect(d).toBeLessThanOrEqual(maxMs)
      expect(d).toBeGreaterThanOrEqual(baseMs)
      expect(reconnectDelayMs(failures + 1, baseMs, maxMs)).toBeGreaterThanOrEqual(d)
    }
  )
})

describe("stateAfterFailure", () => {
  it("reconnects before FAILED_AFTER failures and shows failed from then on", () => {
    expect(stateAfterFailure(1)).toBe("reconnecting")
    expect(stateAfterFailure(FAILED_AFTER - 1)).toBe("reconnecting")
    expect(stateAfterFailure(FAILED_AFTER)).toBe("failed")
    expect(stateAfterFailure(FAILED_AFTER + 100)).toBe("failed")
  })
})

describe("presenceRetryDelayMs", () => {
  it("is the presence backoff for a session never lost, or lost long ago", () => {
    expect([1, 2, 3, 4, 5].map((n) => presenceRetryDelayMs(n, 60_000, 600_000, undefined))).toEqual([60_000, 120_000, 240_000, 480_000, 600_000])
    expect(presenceRetryDelayMs(5, 60_000, 600_000, REJOIN_WINDOW_MS)).toBe(600_000)
  })

  it("is brisk within the rejoin window after an open link to the session was lost (a partition that heals)", () => {
    expect([1, 2, 3, 4, 5].map((n) => presenceRetryDelayMs(n, 60_000, 600_000, 30_000))).toEqual([60_000, 120_000, 120_000, 120_000, 120_000])
    expect(presenceRetryDelayMs(9, 60_000, 600_000, REJOIN_WINDOW_MS - 1)).toBe(REJOIN_MAX_DELAY_MS)
  })
})
