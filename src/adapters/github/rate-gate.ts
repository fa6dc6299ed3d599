/**
 * A client's view of its own budgets, kept with the domain budget model: primary budgets
 * from GitHub's `x-ratelimit-*` headers, every mutative request a second after the last
 * (`nextMutationAt`), content-creating ones also within their windows, and a block after a secondary limit (`retry-after`, else `backoffMs`).
 * Pure functions over `GateState`; the client holds it in a Ref.
 */
import { backoffMs, emptyBudget, nextWriteAt, observe, record, type BudgetState, type GitHubLimits } from "../../domain/budget.js"

/** Which primary budget a request draws on (GitHub's `x-ratelimit-resource`). */
export type Resource = "core" | "graphql"

/** One client's budgets. */
export interface GateState {
  readonly core: BudgetState
  readonly graphql: BudgetState
  /** Content-creating requests this client sent (both APIs share GitHub's 80/min, 500/h). */
  readonly content: BudgetState
  /** No request goes out before this epoch ms after a secondary limit. */
  readonly blockedUntil: number
  /** Secondary limits in a row without `retry-after`: the exponent of the backoff. */
  readonly secondaryStreak: number
  /** Epoch ms the last mutative request of any kind went out (REST POST/PATCH/PUT/DELETE, GraphQL mutation). */
  readonly lastMutationAt: number
}

/** A gate nobody has spent yet. */
export const emptyGate = (limits: GitHubLimits): GateState => ({
  core: emptyBudget(limits),
  graphql: emptyBudget(limits),
  content: emptyBudget(limits),
  blockedUntil: 0,
  secondaryStreak: 0,
  lastMutationAt: Number.NEGATIVE_INFINITY
})

/** Why a request must not go out now, or undefined. */
export const refusal = (
  gate: GateState,
  resource: Resource,
  now: number
): { readonly limit: "primary" | "secondary"; readonly retryAfterMs: number } | undefined => {
  if (gate.blockedUntil > now) return { limit: "secondary", retryAfterMs: gate.blockedUntil - now }
  const b = gate[resource]
  // Only a budget GitHub reported empty is trusted as empty; the window may have refilled since.
  if (b.used >= b.limit && b.resetAt > now) return { limit: "primary", retryAfterMs: b.resetAt - now }
  return undefined
}

const num = (v: string | undefined): number | undefined => {
  const n = v === undefined ? NaN : Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** The gate after a response's `x-ratelimit-*` headers (absent headers change nothing). */
export const observeHeaders = (gate: GateState, headers: Readonly<Record<string, string | undefined>>): GateState => {
  const limit = num(headers["x-ratelimit-limit"])
  const remaining = num(headers["x-ratelimit-remaining"])
  const reset = num(headers["x-ratelimit-reset"])
  if (limit === undefined || remaining === undefined || reset === undefined) return gate
  const resource: Resource = headers["x-ratelimit-resource"] === "graphql" ? "graphql" : "core"
  return { ...gate, [resource]: observe(gate[resource], { limit, remaining, used: limit - remaining, resetAt: reset * 1000 }) }
}

/**
 * The earliest a mutative request may go out: GitHub asks for one second between mutative
 * requests of one user, of every kind (blobs, trees, commits, refs, contents, comments),
 * and for content-creating ones also the 80/min and 500/h windows (`nextWriteAt`).
 */
export const nextMutationAt = (gate: GateState, content: boolean, now: number, limits: GitHubLimits): number =>
  Math.max(now, gate.lastMutationAt + limits.minWriteSpacingMs, content ? nextWriteAt(gate.content, now, limits) : now)

/** The gate after a mutative request went out at `now` (a content-creating one also counts in its windows). */
export const recordMutation = (gate: GateState, content: boolean, now: number): GateState => {
  const spaced = { ...gate, lastMutationAt: Math.max(gate.lastMutationAt, now) }
  return content ? recordWrite(spaced, now) : spaced
}

/** The gate after a content-creating request went out at `now`. */
export const recordWrite = (gate: GateState, now: number): GateState => ({ ...gate, content: record(gate.content, "write", now) })

/** The gate after a secondary limit: blocked for `retry-after`, else for an exponential backoff. */
export const blockSecondary = (gate: GateState, retryAfterMs: number | undefined, now: number, limits: GitHubLimits): GateState => {
  const wait = retryAfterMs ?? backoffMs(gate.secondaryStreak, 0, limits)
  return {
    ...gate,
    blockedUntil: Math.max(gate.blockedUntil, now + wait),
    secondaryStreak: retryAfterMs === undefined ? gate.secondaryStreak + 1 : gate.secondaryStreak
  }
}

/** The gate after a request that was not rate limited. */
export const clearStreak = (gate: GateState): GateState => (gate.secondaryStreak === 0 ? gate : { ...gate, secondaryStreak: 0 })
