/**
 * GitHub's per-user request budgets as pure functions. The memory adapters, the
 * local hub, the GitHub adapters and the client's poll scheduler all use this one
 * model (figures: shared/reference/github-api.md).
 *
 * - primary: 5,000 requests an hour in a window that starts with the first request;
 *   a 304 answer to a conditional request is free;
 * - content-creating requests (commits, comment create/update): 80 a minute and
 *   500 an hour, sliding windows, answered with a secondary limit and `retry-after`.
 */

/** GitHub's documented limits, in one place. */
export interface GitHubLimits {
  readonly primaryPerHour: number
  readonly contentPerMinute: number
  readonly contentPerHour: number
  /** GitHub asks for at least this much time between mutating requests. */
  readonly minWriteSpacingMs: number
  /** What to wait after a secondary limit that came without `retry-after`. */
  readonly secondaryDefaultRetryMs: number
}

/** The limits GitHub documents for one user. */
export const githubLimits: GitHubLimits = {
  primaryPerHour: 5_000,
  contentPerMinute: 80,
  contentPerHour: 500,
  minWriteSpacingMs: 1_000,
  secondaryDefaultRetryMs: 60_000
}

export const HOUR_MS = 3_600_000
export const MINUTE_MS = 60_000

/** What a request costs: a read, a content-creating write, or a free 304. */
export type RequestKind = "read" | "write" | "notModified"

/** One user's budget at a point in time. */
export interface BudgetState {
  readonly limit: number
  readonly used: number
  /** Epoch ms when the primary window refills; 0 before the first request. */
  readonly resetAt: number
  /** Times of content-creating requests within the last hour, ascending. */
  readonly writes: ReadonlyArray<number>
}

/** A budget nobody has spent yet. */
export const emptyBudget = (limits: GitHubLimits = githubLimits): BudgetState => ({
  limit: limits.primaryPerHour,
  used: 0,
  resetAt: 0,
  writes: []
})

/** Why a request is refused, and when to try again. */
export type Verdict =
  | { readonly _tag: "Allowed" }
  | {
      readonly _tag: "Limited"
      readonly limit: "primary" | "secondary"
      readonly retryAfterMs: number
      readonly resetAt: number
    }

const rollWindow = (state: BudgetState, now: number): BudgetState => {
  const writes = state.writes.filter((t) => now - t < HOUR_MS)
  return now >= state.resetAt
    ? { ...state, used: 0, resetAt: now + HOUR_MS, writes }
    : writes.length === state.writes.length
      ? state
      : { ...state, writes }
}

/** Whether a request of `kind` may go out at `now`. */
export const check = (
  state: BudgetState,
  kind: RequestKind,
  now: number,
  limits: GitHubLimits = githubLimits
): Verdict => {
  if (kind === "notModified") return { _tag: "Allowed" }
  const s = rollWindow(state, now)
  if (s.used >= s.limit) {
    return { _tag: "Limited", limit: "primary", retryAfterMs: s.resetAt - now, resetAt: s.resetAt }
  }
  if (kind === "write") {
    const lastMinute = s.writes.filter((t) => now - t < MINUTE_MS)
    if (lastMinute.length >= limits.contentPerMinute) {
      const until = lastMinute[0]! + MINUTE_MS
      return { _tag: "Limited", limit: "secondary", retryAfterMs: until - now, resetAt: until }
    }
    if (s.writes.length >= limits.contentPerHour) {
      const until = s.writes[0]! + HOUR_MS
      return { _tag: "Limited", limit: "secondary", retryAfterMs: until - now, resetAt: until }
    }
  }
  return { _tag: "Allowed" }
}

/** The budget after a request of `kind` went out at `now` (a refused request costs nothing). */
export const record = (state: BudgetState, kind: RequestKind, now: number): BudgetState => {
  if (kind === "notModified") return state
  const s = rollWindow(state, now)
  return {
    ...s,
    used: s.used + 1,
    writes: kind === "write" ? [...s.writes, now] : s.writes
  }
}

/** Checks a request and, when allowed, records it: the budget a server keeps per user. */
export const take = (
  state: BudgetState,
  kind: RequestKind,
  now: number,
  limits: GitHubLimits = githubLimits
): readonly [Verdict, BudgetState] => {
  const verdict = check(state, kind, now, limits)
  return [verdict, verdict._tag === "Allowed" ? record(state, kind, now) : state]
}

/** The `x-ratelimit-*` view of a budget. */
export interface RateSnapshot {
  readonly limit: number
  readonly remaining: number
  readonly used: number
  /** Epoch ms of the next refill. */
  readonly resetAt: number
}

/** The primary budget as GitHub's headers report it. */
export const snapshot = (state: BudgetState, now: number): RateSnapshot => {
  const s = now >= state.resetAt ? { ...state, used: 0, resetAt: now + HOUR_MS } : state
  return { limit: s.limit, remaining: Math.max(0, s.limit - s.used), used: s.used, resetAt: s.resetAt }
}

/** A client's budget after it read GitHub's `x-ratelimit-*` headers. */
export const observe = (state: BudgetState, seen: RateSnapshot): BudgetState => ({
  ...state,
  limit: seen.limit,
  used: seen.limit - seen.remaining,
  resetAt: seen.resetAt
})

/** The earliest time a content-creating request may go out without hitting a secondary limit. */
export const nextWriteAt = (state: BudgetState, now: number, limits: GitHubLimits = githubLimits): number => {
  const writes = state.writes.filter((t) => now - t < HOUR_MS)
  const last = writes.at(-1)
  let at = last === undefined ? now : Math.max(now, last + limits.minWriteSpacingMs)
  const lastMinute = writes.filter((t) => at - t < MINUTE_MS)
  if (lastMinute.length >= limits.contentPerMinute) at = Math.max(at, lastMinute[0]! + MINUTE_MS)
  if (writes.length >= limits.contentPerHour) at = Math.max(at, writes[writes.length - limits.contentPerHour]! + HOUR_MS)
  return at
}

/**
 * How long to wait before the next poll: `baseMs` while the budget is ample,
 * wider as it runs down (spreading what is left over the time to the reset, up
 * to `maxMs`), and until the reset once only `reserve` is left, so polling never
 * eats into what is kept for writes and what the user asks for. Each poll is
 * assumed to count (a 304 would be free).
 */
export const pollDelayMs = (options: {
  readonly baseMs: number
  readonly maxMs: number
  readonly budget: RateSnapshot
  readonly now: number
  readonly reserve: number
}): number => {
  const { baseMs, maxMs, budget, now, reserve } = options
  const untilReset = Math.max(0, budget.resetAt - now)
  const spendable = budget.remaining - reserve
  if (spendable <= 0) return Math.max(baseMs, untilReset)
  return Math.min(Math.max(baseMs, Math.ceil(untilReset / spendable)), Math.max(maxMs, baseMs))
}

/** Exponential backoff after consecutive rate-limit refusals, never shorter than what GitHub asked for. */
export const backoffMs = (attempt: number, retryAfterMs: number, limits: GitHubLimits = githubLimits): number =>
  Math.max(retryAfterMs, Math.min(limits.secondaryDefaultRetryMs * 2 ** Math.max(0, attempt), 15 * MINUTE_MS))

/** What one user's requests came to: the counters the in-memory GitHub, the hub and the simulator report. */
export interface UsageCounters {
  /** Primary-counted requests (a 304 is not one). */
  requests: number
  /** Free 304 answers to conditional requests. */
  notModified: number
  /** Content-creating requests let through. */
  writes: number
  /** Compare-and-swap losses (409/422). */
  conflicts: number
  /** Requests refused for a primary or secondary limit. */
  rateLimited: number
}

/** Counters of a user who has made no request yet. */
export const emptyUsage = (): UsageCounters => ({ requests: 0, notModified: 0, writes: 0, conflicts: 0, rateLimited: 0 })
