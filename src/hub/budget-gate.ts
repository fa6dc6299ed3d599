/**
 * Per-user budgets at the hub's door, built on the one budget model (src/domain/budget.ts):
 * a user's tokens share one budget; REST and GraphQL have separate primary budgets and a
 * shared content-creation window, like GitHub.
 */
import { snapshot, take, type Verdict } from "../domain/budget.js"
import { ghError, type Reply } from "./http.js"
import { emptyBudgets, statsOf, type HubState, type UserBudgets } from "./state.js"

/** Which primary budget a request draws on (GitHub's `x-ratelimit-resource`). */
export type Resource = "core" | "graphql"

/** Where GitHub's rate-limit errors point. */
export const RATE_LIMIT_DOCS =
  "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
/** Where GitHub's secondary-limit errors point. */
export const SECONDARY_DOCS =
  "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

/** GitHub's search budget per minute, reported but never charged (the hub has no search). */
export const SEARCH_PER_MINUTE = 30

/** The budgets of a user, created on first use. */
export const budgetsOf = (state: HubState, login: string): UserBudgets => {
  let b = state.budgets.get(login)
  if (b === undefined) {
    b = emptyBudgets(state.limits)
    state.budgets.set(login, b)
  }
  return b
}

/**
 * Charges one request to `login`: primary budget of `resource`, and the content window when
 * the request creates content. Nothing is charged when refused.
 */
export const charge = (state: HubState, login: string, resource: Resource, contentCreating: boolean, now: number): Verdict => {
  const b = budgetsOf(state, login)
  const [primary, nextPrimary] = take(b[resource], "read", now, state.limits)
  if (primary._tag === "Limited") return primary
  if (contentCreating) {
    const [content, nextContent] = take(b.content, "write", now, state.limits)
    if (content._tag === "Limited") return { ...content, limit: "secondary" }
    b.content = nextContent
    statsOf(state, login).writes++
  }
  b[resource] = nextPrimary
  statsOf(state, login).requests++
  return { _tag: "Allowed" }
}

/** The `x-ratelimit-*` headers for a user's budget of `resource`. */
export const rateHeaders = (state: HubState, login: string, resource: Resource, now: number): Record<string, string> => {
  const s = snapshot(budgetsOf(state, login)[resource], now)
  return {
    "x-ratelimit-limit": String(s.limit),
    "x-ratelimit-remaining": String(s.remaining),
    "x-ratelimit-used": String(s.used),
    "x-ratelimit-reset": String(Math.ceil(s.resetAt / 1000)),
    "x-ratelimit-resource": resource
  }
}

/** GitHub's refusal for a limited request: 403, with `retry-after` on a secondary limit. */
export const limitedReply = (state: HubState, login: string, verdict: Extract<Verdict, { _tag: "Limited" }>): Reply => {
  statsOf(state, login).rateLimited++
  const userId = state.accounts.get(login)?.id ?? 0
  if (verdict.limit === "primary") {
    return ghError(403, `API rate limit exceeded for user ID ${userId}.`, RATE_LIMIT_DOCS)
  }
  return {
    ...ghError(
      403,
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID hub.",
      SECONDARY_DOCS
    ),
    headers: { "retry-after": String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))) }
  }
}

/** The body of `GET /rate_limit` for a user. */
export const rateLimitBody = (state: HubState, login: string, now: number) => {
  const view = (resource: Resource) => {
    const s = snapshot(budgetsOf(state, login)[resource], now)
    return { limit: s.limit, remaining: s.remaining, used: s.used, reset: Math.ceil(s.resetAt / 1000) }
  }
  // The hub serves no search API; its budget is reported as GitHub's unused default so the shape matches.
  const search = { limit: SEARCH_PER_MINUTE, remaining: SEARCH_PER_MINUTE, used: 0, reset: Math.ceil((now + 60_000) / 1000) }
  return { resources: { core: view("core"), graphql: view("graphql"), search }, rate: view("core") }
}
