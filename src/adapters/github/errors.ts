/**
 * What a GitHub request can fail with, before an adapter maps it to its port's error:
 * an HTTP (or GraphQL) refusal with its status, a rate limit with when to retry, or an
 * answer that does not have the shape SkyGit reads (decoded with Schema, never cast).
 */
import { Data, type ParseResult } from "effect"
import { RateLimited } from "../../ports/errors.js"

export { RateLimited }

/** Status used for failures where no HTTP answer arrived (network, CORS refusal, abort). */
export const NO_RESPONSE = 0
/** Status used for a GraphQL document answered 200 with `errors`. */
export const GRAPHQL_ERROR = 200

/** GitHub answered with an error (or nothing reached it): `status` 0 means no answer. */
export class GitHubHttpError extends Data.TaggedError("GitHubHttpError")<{
  readonly status: number
  readonly message: string
  /** GraphQL error `type` (NOT_FOUND, FORBIDDEN, ...), when it was one. */
  readonly type?: string
}> {}

/** How much of a decode error's explanation goes into `detail` (the whole of it stays in `cause`). */
export const MAX_DECODE_DETAIL_CHARS = 400

/** GitHub (or something in its place) answered, but not in the shape SkyGit reads: `cause` is the Schema's ParseError. */
export class GitHubMalformedResponse extends Data.TaggedError("GitHubMalformedResponse")<{
  /** The request, e.g. `GET /repos/{owner}/{repo}/contents/{path}` or a GraphQL operation. */
  readonly what: string
  readonly detail: string
  readonly cause: ParseResult.ParseError
}> {}

/** Any failure of one GitHub request. */
export type GitHubFailure = GitHubHttpError | RateLimited | GitHubMalformedResponse

/** Whether a failure is worth retrying at once: no answer, or a server error. */
export const isTransient = (f: GitHubFailure): boolean =>
  f._tag === "GitHubHttpError" && (f.status === NO_RESPONSE || f.status >= 500)

/** One line saying what went wrong, for port errors' `detail`. */
export const describe = (f: GitHubFailure, what: string): string =>
  f._tag === "RateLimited"
    ? `${what}: ${f.limit} rate limit, retry in ${f.retryAfterMs} ms`
    : f._tag === "GitHubMalformedResponse"
      ? `${what}: GitHub's answer to ${f.what} does not have the expected shape (${f.detail})`
      : f.status === NO_RESPONSE
      ? `${what}: GitHub could not be reached (${f.message})`
      : `${what}: HTTP ${f.status}${f.type === undefined ? "" : ` ${f.type}`}: ${f.message}`

/** SkyGit was set up to do something it must not (write to the default branch). */
export class GitHubMisconfigured extends Data.TaggedError("GitHubMisconfigured")<{ readonly detail: string }> {}
