/**
 * The hub's HTTP vocabulary: what a handler returns, GitHub-shaped errors, and the
 * per-request context handlers read.
 */
import type { Account, HubState, RepoState } from "./state.js"
import { canAccess } from "./state.js"

/** GitHub links every REST error to its docs; the hub keeps the field so clients see the same shape. */
export const DOCS_URL = "https://docs.github.com/rest"

/** What a handler answers: a JSON body, or raw bytes with their own content type. */
export interface Reply {
  readonly status: number
  readonly body?: unknown
  readonly raw?: Uint8Array
  readonly headers?: Readonly<Record<string, string>>
}

/** A JSON reply. */
export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply =>
  headers === undefined ? { status, body } : { status, body, headers }

/** A GitHub error body: `{ message, documentation_url, status }`. */
export const ghError = (status: number, message: string, docs = DOCS_URL, extra?: Record<string, unknown>): Reply =>
  json(status, { message, documentation_url: docs, status: String(status), ...extra })

/** GitHub's 404 for unknown routes and for resources the caller may not see. */
export const notFound = (): Reply => ghError(404, "Not Found")

/** GitHub's 422 for a body that parsed but does not validate. */
export const invalid = (message: string): Reply => ghError(422, message)

/** Everything a handler needs to know about the request. */
export interface Ctx {
  readonly request: Request
  readonly url: URL
  /** The API root URLs in bodies point at (the request's own origin). */
  readonly base: string
  readonly user: Account | undefined
  readonly state: HubState
  readonly now: number
  /** The parsed JSON body ({} when empty). */
  readonly body: Record<string, unknown>
}

/** A REST route: method, path pattern (captures are decoded params), and whether it creates content. */
export interface Route {
  readonly method: string
  readonly pattern: RegExp
  /** Counts against the 80/min and 500/h content-creation limit. */
  readonly contentCreating?: boolean
  /** Costs nothing against the primary budget (`GET /rate_limit`). */
  readonly free?: boolean
  readonly handle: (ctx: Ctx, params: ReadonlyArray<string>) => Promise<Reply>
}

/** The repository at owner/name when the caller may see it, else GitHub's 404. */
export const findRepo = (ctx: Ctx, owner: string, name: string): RepoState | Reply => {
  const repo = ctx.state.repos.get(`${owner}/${name}`.toLowerCase())
  if (repo === undefined || ctx.user === undefined || !canAccess(repo, ctx.user.login)) return notFound()
  return repo
}

/** Narrows findRepo's answer. */
export const isReply = (x: unknown): x is Reply =>
  typeof x === "object" && x !== null && "status" in x && typeof (x as { status: unknown }).status === "number"

/** ISO 8601 without milliseconds, as GitHub prints timestamps. */
export const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z")

/** Base64 wrapped at 60 columns with a trailing newline, exactly like GitHub's contents/blob answers. */
export const githubBase64 = (bytes: Uint8Array): string => {
  const b64 = Buffer.from(bytes).toString("base64")
  const lines: Array<string> = []
  for (let i = 0; i < b64.length; i += 60) lines.push(b64.slice(i, i + 60))
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}

/** A string field of the body, or undefined. */
export const str = (body: Record<string, unknown>, key: string): string | undefined =>
  typeof body[key] === "string" ? (body[key] as string) : undefined

/** A query parameter as a positive integer within bounds, else the fallback. */
export const intParam = (url: URL, key: string, fallback: number, max: number): number => {
  const n = Number(url.searchParams.get(key))
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback
}
