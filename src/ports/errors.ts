/**
 * Errors shared by the ports. Every port error is a `Schema.TaggedError`: data with a
 * reason in plain words (`detail`) and, where an adapter mapped a lower failure, that
 * failure itself as `cause` (never flattened into the string).
 */
import { Schema } from "effect"

/**
 * GitHub (or its stand-in) refused for budget: `limit` tells which, `retryAfterMs` when a
 * retry may succeed. The one rate-limit error of the GitHub client, Presence,
 * ConversationRepo and the in-memory GitHub.
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  limit: Schema.Literal("primary", "secondary"),
  retryAfterMs: Schema.Number
}) {}

/** The fields of a port error that says what went wrong and keeps what caused it. */
export const withCause = {
  detail: Schema.String,
  /** The failure the adapter mapped (a GitHub refusal, an IndexedDB or file-system error), when there was one. */
  cause: Schema.optional(Schema.Defect)
}
