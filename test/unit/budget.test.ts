/**
 * GitHub's budgets as pure functions: 5,000 requests an hour, 304s free, content
 * creation 80 a minute and 500 an hour (secondary, with retry-after), refusals
 * free, write spacing, poll pacing and backoff.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  backoffMs,
  check,
  emptyBudget,
  githubLimits,
  HOUR_MS,
  MINUTE_MS,
  nextWriteAt,
  observe,
  pollDelayMs,
  record,
  snapshot,
  take,
  type BudgetState,
  type RequestKind,
  type Verdict
} from "../../src/domain/budget.js"

const T0 = 1_700_000_000_000

/** Takes requests of `kind` at the given times, failing the test on the first refusal. */
const takeAll = (state: BudgetState, kind: RequestKind, times: ReadonlyArray<number>): BudgetState =>
  times.reduce((s, t) => {
    const [verdict, next] = take(s, kind, t)
    if (verdict._tag !== "Allowed") throw new Error(`refused at ${t - T0}: ${JSON.stringify(verdict)}`)
    return next
  }, state)
const times = (n: number, every: number, from = T0) => Array.from({ length: n }, (_, i) => from + i * every)
const limited = (v: Verdict, limit: "primary" | "secondary", retryAfterMs: number) =>
  expect(v).toEqual({ _tag: "Limited", limit, retryAfterMs, resetAt: expect.any(Number) })

describe("primary budget", () => {
  it("allows 5,000 requests in the hour that starts with the first, then refuses until the reset", () => {
    const spent = takeAll(emptyBudget(), "read", times(5_000, 500))
    const now = T0 + 4_999 * 500 + 1
    const [verdict, after] = take(spent, "read", now)
    limited(verdict, "primary", T0 + HOUR_MS - now)
    expect(verdict._tag === "Limited" && verdict.resetAt).toBe(T0 + HOUR_MS)
    expect(after).toBe(spent)
    expect(take(spent, "read", T0 + HOUR_MS)[0]).toEqual({ _tag: "Allowed" })
    expect(snapshot(take(spent, "read", T0 + HOUR_MS)[1], T0 + HOUR_MS)).toMatchObject({ used: 1, remaining: 4_999, resetAt: T0 + 2 * HOUR_MS })
  })

  it("counts writes against the primary budget too", () => {
    const s = takeAll(emptyBudget(), "write", [T0, T0 + 1_000])
    expect(snapshot(s, T0 + 2_000)).toEqual({ limit: 5_000, remaining: 4_998, used: 2, resetAt: T0 + HOUR_MS })
  })

  it("refuses a write on an exhausted primary budget as primary, not secondary", () => {
    const spent = takeAll(emptyBudget(), "read", times(5_000, 1))
    limited(check(spent, "write", T0 + 10_000), "primary", HOUR_MS - 10_000)
  })
})

describe("304 Not Modified", () => {
  it("costs nothing and is answered even when the budget is spent", () => {
    const s = takeAll(emptyBudget(), "read", [T0])
    const [verdict, after] = take(s, "notModified", T0 + 1)
    expect(verdict).toEqual({ _tag: "Allowed" })
    expect(after).toBe(s)
    const spent = takeAll(emptyBudget(), "read", times(5_000, 1))
    expect(take(spent, "notModified", T0 + 10_000)).toEqual([{ _tag: "Allowed" }, spent])
  })

  it.prop("never changes what is left", [fc.array(fc.constantFrom<RequestKind>("read", "write", "notModified"), { maxLength: 40 })], ([kinds]) => {
    const state = kinds.reduce((s, k, i) => take(s, k, T0 + i * 2_000)[1], emptyBudget())
    const withoutFree = kinds.filter((k) => k !== "notModified").length
    expect(snapshot(state, T0 + kinds.length * 2_000).used).toBe(withoutFree)
  })
})

describe("content-creating requests", () => {
  it("allows 80 in a minute and answers the 81st with a secondary limit and retry-after", () => {
    const s = takeAll(emptyBudget(), "write", times(80, 100))
    const now = T0 + 8_000
    const [verdict, after] = take(s, "write", now)
    limited(verdict, "secondary", T0 + MINUTE_MS - now)
    expect(after).toBe(s)
    // Reads are not content-creating: they still go.
    expect(check(s, "read", now)).toEqual({ _tag: "Allowed" })
    expect(check(s, "write", T0 + MINUTE_MS - 1)._tag).toBe("Limited")
    expect(check(s, "write", T0 + MINUTE_MS)).toEqual({ _tag: "Allowed" })
  })

  it("allows 500 in an hour and answers the 501st with a secondary limit until the oldest leaves the window", () => {
    const s = takeAll(emptyBudget(), "write", times(500, 7_000))
    const now = T0 + 500 * 7_000
    const [verdict, after] = take(s, "write", now)
    limited(verdict, "secondary", T0 + HOUR_MS - now)
    expect(after).toBe(s)
    expect(check(s, "write", T0 + HOUR_MS)).toEqual({ _tag: "Allowed" })
  })

  it.prop(
    "a refused request costs nothing, whatever came before",
    [fc.array(fc.tuple(fc.constantFrom<RequestKind>("read", "write", "notModified"), fc.nat({ max: 3_000 })), { minLength: 1, maxLength: 300 })],
    ([steps]) => {
      let s = emptyBudget()
      let now = T0
      for (const [kind, gap] of steps) {
        now += gap
        const [verdict, next] = take(s, kind, now)
        if (verdict._tag === "Limited") {
          expect(next).toBe(s)
          expect(verdict.retryAfterMs).toBeGreaterThan(0)
          expect(verdict.resetAt).toBe(now + verdict.retryAfterMs)
        }
        s = next
      }
    },
    { fastCheck: { numRuns: 50 } }
  )
})

describe("nextWriteAt", () => {
  it("is now for a fresh budget, and at least 1 s after the last write", () => {
    expect(nextWriteAt(emptyBudget(), T0)).toBe(T0)
    const s = record(emptyBudget(), "write", T0)
    expect(nextWriteAt(s, T0)).toBe(T0 + 1_000)
    expect(nextWriteAt(s, T0 + 5_000)).toBe(T0 + 5_000)
  })

  it("waits for the minute window when 80 writes are in it", () => {
    const s = times(80, 100).reduce((b, t) => record(b, "write", t), emptyBudget())
    const at = nextWriteAt(s, T0 + 8_000)
    expect(at).toBe(T0 + MINUTE_MS)
    expect(check(s, "write", at - 1)._tag).toBe("Limited")
    expect(check(s, "write", at)).toEqual({ _tag: "Allowed" })
  })

  it("waits for the hour window when 500 writes are in it", () => {
    const s = times(500, 7_000).reduce((b, t) => record(b, "write", t), emptyBudget())
    const at = nextWriteAt(s, T0 + 3_500_000)
    expect(at).toBe(T0 + HOUR_MS)
    expect(check(s, "write", at - 1)._tag).toBe("Limited")
    expect(check(s, "write", at)).toEqual({ _tag: "Allowed" })
  })

  it.prop(
    "writing whenever it says: every write is allowed, ≥ 1 s apart, and no later than needed",
    [fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.nat({ max: 20_000 }), weight: 1 }), { minLength: 520, maxLength: 600 })],
    ([gaps]) => {
      let s = emptyBudget()
      let now = T0
      let last: number | undefined
      let waitedForHour = false
      for (const gap of gaps) {
        now += gap
        const at = nextWriteAt(s, now)
        const floor = last === undefined ? now : Math.max(now, last + githubLimits.minWriteSpacingMs)
        expect(at).toBeGreaterThanOrEqual(floor)
        if (at > floor) {
          expect(check(s, "write", at - 1)).toMatchObject({ _tag: "Limited", limit: "secondary" })
          waitedForHour = true
        }
        const [verdict, next] = take(s, "write", at)
        expect(verdict).toEqual({ _tag: "Allowed" })
        s = next
        last = at
        now = at
      }
      // Mostly back-to-back writes: the hour window is reached and waited for.
      expect(waitedForHour).toBe(true)
    },
    { fastCheck: { numRuns: 10 } }
  )
})

describe("pollDelayMs", () => {
  const base = { baseMs: 10_000, maxMs: 120_000, now: T0, reserve: 100 }
  const budget = (remaining: number, untilReset = HOUR_MS) => ({ limit: 5_000, remaining, used: 5_000 - remaining, resetAt: T0 + untilReset })

  it("polls at the base pace while the budget is ample", () => {
    expect(pollDelayMs({ ...base, budget: budget(5_000) })).toBe(10_000)
  })

  it("widens as the budget runs down", () => {
    const delays = [5_000, 1_000, 400, 200, 150].map((remaining) => pollDelayMs({ ...base, budget: budget(remaining) }))
    expect(delays).toEqual([...delays].sort((a, b) => a - b))
    expect(delays[delays.length - 1]!).toBeGreaterThan(delays[0]!)
  })

  it("waits for the reset once only the reserve is left, even past maxMs", () => {
    expect(pollDelayMs({ ...base, budget: budget(100) })).toBe(HOUR_MS)
    expect(pollDelayMs({ ...base, budget: budget(0, 30 * MINUTE_MS) })).toBe(30 * MINUTE_MS)
    expect(pollDelayMs({ ...base, budget: budget(0, 1_000) })).toBe(10_000)
  })

  const arbPoll = fc.record({
    baseMs: fc.integer({ min: 1, max: 60_000 }),
    maxMs: fc.integer({ min: 1, max: 600_000 }),
    remaining: fc.nat({ max: 5_000 }),
    more: fc.nat({ max: 5_000 }),
    untilReset: fc.nat({ max: HOUR_MS }),
    reserve: fc.nat({ max: 500 })
  })

  it.prop("never polls faster than baseMs, and never slower than maxMs while budget is left", [arbPoll], ([p]) => {
    const d = pollDelayMs({ ...p, now: T0, budget: budget(p.remaining, p.untilReset) })
    expect(d).toBeGreaterThanOrEqual(p.baseMs)
    if (p.remaining > p.reserve) expect(d).toBeLessThanOrEqual(Math.max(p.maxMs, p.baseMs))
    else expect(d).toBe(Math.max(p.baseMs, p.untilReset))
  })

  it.prop("is never shorter with less budget left", [arbPoll], ([p]) => {
    const at = (remaining: number) => pollDelayMs({ ...p, now: T0, budget: budget(remaining, p.untilReset) })
    expect(at(p.remaining)).toBeGreaterThanOrEqual(at(Math.min(5_000, p.remaining + p.more)))
  })

  it.prop("when not capped by maxMs, the polls it allows until the reset fit in what is spendable", [arbPoll], ([p]) => {
    const d = pollDelayMs({ ...p, now: T0, budget: budget(p.remaining, p.untilReset) })
    const spendable = p.remaining - p.reserve
    if (spendable > 0 && d < p.maxMs) expect(Math.floor(p.untilReset / d)).toBeLessThanOrEqual(spendable)
  })
})

describe("backoffMs", () => {
  it("starts at a minute and doubles, capped at 15 minutes", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffMs(a, 0))).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000])
  })

  it("is never shorter than GitHub's retry-after, even past the cap", () => {
    expect(backoffMs(0, 90_000)).toBe(90_000)
    expect(backoffMs(10, 3_600_000)).toBe(3_600_000)
  })

  it.prop("is at least retry-after and at least a minute, and grows with attempts", [fc.integer({ min: -3, max: 60 }), fc.nat({ max: 2 * HOUR_MS })], ([attempt, retryAfter]) => {
    const d = backoffMs(attempt, retryAfter)
    expect(d).toBeGreaterThanOrEqual(retryAfter)
    expect(d).toBeGreaterThanOrEqual(githubLimits.secondaryDefaultRetryMs)
    expect(backoffMs(attempt + 1, retryAfter)).toBeGreaterThanOrEqual(d)
  })
})

describe("headers", () => {
  it("reports a fresh budget as full, with the window starting now", () => {
    expect(snapshot(emptyBudget(), T0)).toEqual({ limit: 5_000, remaining: 5_000, used: 0, resetAt: T0 + HOUR_MS })
  })

  it("lets a client adopt GitHub's view: remaining 0 refuses until the reported reset", () => {
    const s = observe(emptyBudget(), { limit: 5_000, remaining: 0, used: 5_000, resetAt: T0 + 600_000 })
    limited(check(s, "read", T0), "primary", 600_000)
    expect(check(s, "read", T0 + 600_000)).toEqual({ _tag: "Allowed" })
  })

  it.prop("observe then snapshot gives back what was observed, within the window", [fc.integer({ min: 1, max: 15_000 }), fc.nat({ max: 15_000 }), fc.integer({ min: 1, max: HOUR_MS })], ([limit, r, untilReset]) => {
    const remaining = Math.min(limit, r)
    const seen = { limit, remaining, used: limit - remaining, resetAt: T0 + untilReset }
    expect(snapshot(observe(emptyBudget(), seen), T0)).toEqual(seen)
  })
})
