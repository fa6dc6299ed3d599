/**
 * One user's GitHub client for one repository: every request of every SkyGit adapter goes
 * through `request`, which keeps the budget (`rate-gate.ts`), serialises mutating requests
 * (GitHub asks for serial writes), spaces every one of them a second apart (REST and GraphQL,
 * content-creating or not) on Effect's Clock, retries transient failures
 * of idempotent requests with a Schedule, and turns every outcome into a typed value: every
 * answer is decoded with the Schema its caller names (`wire.ts`, `discussion-queries.ts`), and
 * one of another shape is a GitHubMalformedResponse. Nothing it returns throws.
 */
import type { Octokit } from "@octokit/rest"
import { Clock, Context, Effect, Layer, Option, Predicate, Ref, Schedule, Schema } from "effect"
import { githubLimits, type GitHubLimits } from "../../domain/budget.js"
import { GitHubHttpError, GitHubMalformedResponse, RateLimited, GRAPHQL_ERROR, isTransient, MAX_DECODE_DETAIL_CHARS, NO_RESPONSE, type GitHubFailure } from "./errors.js"
import { makeOctokit, type OctokitOptions } from "./octokit.js"
import { blockSecondary, clearStreak, emptyGate, nextMutationAt, observeHeaders, recordMutation, refusal, type GateState, type Resource } from "./rate-gate.js"
import { ErrorBody, GraphQLEnvelope, OctokitFailure } from "./wire.js"

/** Retries of an idempotent request after a 5xx or no answer. */
export const TRANSIENT_RETRIES = 2
/** First wait before such a retry; doubles, with jitter. */
export const TRANSIENT_BASE_MS = 200

/** The retry policy for transient failures (a Schedule, so TestClock drives it). */
export const transientRetry = Schedule.exponential(TRANSIENT_BASE_MS).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(TRANSIENT_RETRIES)))

/**
 * Longest a content-creating request waits for its slot (GitHub's 1 s spacing). A later
 * slot (the 80/min or 500/h window is full) is reported as a secondary limit instead of
 * holding the caller for minutes.
 */
export const MAX_WRITE_WAIT_MS = 5_000

/** Where SkyGit works: one repository. */
export interface GitHubClientOptions extends OctokitOptions {
  readonly owner: string
  readonly repo: string
  /** Budgets to plan with; default GitHub's documented ones. */
  readonly limits?: GitHubLimits
}

/** Response headers, lower-case names. */
export type Headers = Readonly<Record<string, string | undefined>>

/** A 2xx response whose body was decoded as `A`. */
export interface GitHubResponse<A> {
  readonly status: number
  readonly data: A
  readonly headers: Headers
}

/** A response as it arrived: 2xx, or 304 (then `data` is undefined). */
type RawResponse = GitHubResponse<unknown>

/** A decoder of one request's answer: the caller's Schema, its failure a GitHubMalformedResponse naming `what`. */
export const decodeAnswer =
  <A, I>(schema: Schema.Schema<A, I>, what: string) =>
  (data: unknown): Effect.Effect<A, GitHubMalformedResponse> =>
    Schema.decodeUnknown(schema)(data).pipe(
      Effect.mapError((cause) => new GitHubMalformedResponse({ what, detail: cause.message.slice(0, MAX_DECODE_DETAIL_CHARS), cause }))
    )

/**
 * `read`: a GET or GraphQL query; `mutation`: a write that creates no content (blobs,
 * trees, commits, deletions); `content`: a content-creating write (commit on a branch,
 * Discussion or comment create/update). Both kinds of write are a second apart
 * (`nextMutationAt`); content ones also count in the 80/min and 500/h windows. A REST
 * route other than GET/HEAD, or a GraphQL `mutation` document, is never taken as a read.
 */
export type RequestKind = "read" | "mutation" | "content"

/** The kind a request is spaced as: what the caller said, but a write is never a read. */
export const effectiveKind = (route: string, kind: RequestKind, query?: string): RequestKind => {
  if (kind !== "read") return kind
  if (route === "POST /graphql") return query !== undefined && /^\s*mutation\b/.test(query) ? "mutation" : "read"
  return /^(GET|HEAD) /.test(route) ? "read" : "mutation"
}

/** Options of one request. */
export interface RequestOptions {
  readonly kind?: RequestKind
  /** Retry transient failures; default true for reads and mutations (both idempotent here). */
  readonly retry?: boolean
}

/** A GitHub client bound to one repository and one token. */
export interface GitHubClient {
  readonly owner: string
  readonly repo: string
  readonly limits: GitHubLimits
  /**
   * One REST request (`"GET /repos/{owner}/{repo}/..."`; owner and repo are filled in), its
   * answer decoded by `schema`.
   */
  readonly request: <A, I>(route: string, params: Record<string, unknown>, schema: Schema.Schema<A, I>, options?: RequestOptions) => Effect.Effect<GitHubResponse<A>, GitHubFailure>
  /**
   * A conditional read: sent with `If-None-Match: etag` when there is one; none when GitHub
   * answered 304 (unchanged, and free), else the answer decoded by `schema`.
   */
  readonly requestIfChanged: <A, I>(
    route: string,
    params: Record<string, unknown>,
    schema: Schema.Schema<A, I>,
    etag: string | undefined
  ) => Effect.Effect<Option.Option<GitHubResponse<A>>, GitHubFailure>
  /** One GraphQL document; its `data` decoded by `schema` on success, errors (even with HTTP 200) as failures. */
  readonly graphql: <A, I>(query: string, variables: Record<string, unknown>, schema: Schema.Schema<A, I>, kind?: RequestKind) => Effect.Effect<A, GitHubFailure>
  /** The budgets as this client last saw them. */
  readonly gate: Effect.Effect<GateState>
  /**
   * Waits until a content-creating request may go out without waiting (GitHub's 1 s
   * spacing), or fails as a content-creating request would when the slot is far off. A
   * compare-and-swap writer waits here *before* it reads the version it writes over, so
   * that read is not a second old by the time the write goes out.
   */
  readonly writeSlot: Effect.Effect<void, GitHubFailure>
  /**
   * Starts one content-creating request that outlives the page (`fetch` with `keepalive`)
   * at once: no wait for a write slot, no retry, only headers GitHub's CORS preflight
   * allows. `path` follows `/repos/{owner}/{repo}`. The request is under way when the outer
   * effect returns (it is synchronous); the inner effect waits for the answer.
   */
  readonly keepalive: <A, I>(method: "PUT", path: string, body: string, schema: Schema.Schema<A, I>) => Effect.Effect<Effect.Effect<GitHubResponse<A>, GitHubFailure>>
}

/**
 * The headers of a keepalive request: each is CORS-safelisted or in the list GitHub's
 * preflight allows (Authorization, Content-Type), so the preflight passes on github.com.
 */
export const keepaliveHeaders = (token: string): Record<string, string> => ({
  accept: "application/vnd.github+json",
  authorization: `token ${token}`,
  "content-type": "application/json; charset=utf-8"
})

/** What a failed request threw, as far as SkyGit reads it. */
interface OctokitError {
  readonly message?: string
  readonly response?: { readonly status: number; readonly headers: Headers; readonly data: unknown }
}

/** Header values that are strings; others (none are expected) are dropped, not cast. */
const headersOf = (raw: unknown): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  if (!Predicate.isRecord(raw)) return out
  for (const [k, v] of Object.entries(raw)) if (typeof v === "string") out[k.toLowerCase()] = v
  return out
}

/** Whatever Octokit (or fetch under it) threw, read with a Schema: anything else is "no response". */
const octokitError = (thrown: unknown): OctokitError =>
  Option.match(Schema.decodeUnknownOption(OctokitFailure)(thrown), {
    onNone: () => ({ message: String(thrown) }),
    onSome: (e) => ({
      ...(e.message === undefined ? {} : { message: e.message }),
      ...(e.response === undefined ? {} : { response: { status: e.response.status, headers: headersOf(e.response.headers), data: e.response.data } })
    })
  })

const messageOf = (data: unknown, fallback: string): string =>
  Option.match(Schema.decodeUnknownOption(ErrorBody)(data), { onNone: () => fallback, onSome: (b) => b.message })

const SECONDARY_MESSAGE = /secondary rate limit|abuse detection/i

/** Classifies a refused request; updates nothing. */
const classify = (
  e: OctokitError,
  now: number
): { readonly failure: GitHubFailure; readonly headers: Record<string, string | undefined>; readonly retryAfterMs?: number } => {
  const response = e.response
  if (response === undefined) return { failure: new GitHubHttpError({ status: NO_RESPONSE, message: e.message ?? "no response" }), headers: {} }
  const headers = response.headers
  const message = messageOf(response.data, e.message ?? `HTTP ${response.status}`)
  if (response.status === 403 || response.status === 429) {
    const retryAfter = Number(headers["retry-after"])
    if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter)) {
      const retryAfterMs = Math.max(0, retryAfter * 1000)
      return { failure: new RateLimited({ limit: "secondary", retryAfterMs }), headers, retryAfterMs }
    }
    if (headers["x-ratelimit-remaining"] === "0") {
      const reset = Number(headers["x-ratelimit-reset"]) * 1000
      return { failure: new RateLimited({ limit: "primary", retryAfterMs: Math.max(0, (Number.isFinite(reset) ? reset : now) - now) }), headers }
    }
    if (SECONDARY_MESSAGE.test(message)) return { failure: new RateLimited({ limit: "secondary", retryAfterMs: 0 }), headers }
  }
  return { failure: new GitHubHttpError({ status: response.status, message }), headers }
}

/** A client for `options.owner/options.repo`. */
export const makeGitHubClient = (options: GitHubClientOptions): Effect.Effect<GitHubClient> =>
  Effect.gen(function* () {
    const limits = options.limits ?? githubLimits
    const octokit: Octokit = makeOctokit(options)
    const gate = yield* Ref.make(emptyGate(limits))
    const writeLock = yield* Effect.makeSemaphore(1)

    const sendOnce = (route: string, params: Record<string, unknown>, kind: RequestKind, etag: string | undefined): Effect.Effect<RawResponse, GitHubFailure> =>
      Effect.gen(function* () {
        const resource: Resource = route === "POST /graphql" ? "graphql" : "core"
        let now = yield* Clock.currentTimeMillis
        const refused = refusal(yield* Ref.get(gate), resource, now)
        if (refused !== undefined) return yield* Effect.fail(new RateLimited(refused))
        if (kind !== "read") {
          // One second after the previous mutative request of this client, whatever its kind.
          const at = nextMutationAt(yield* Ref.get(gate), kind === "content", now, limits)
          if (at - now > MAX_WRITE_WAIT_MS) return yield* Effect.fail(new RateLimited({ limit: "secondary", retryAfterMs: at - now }))
          if (at > now) yield* Effect.sleep(at - now)
          now = yield* Clock.currentTimeMillis
          yield* Ref.update(gate, (g) => recordMutation(g, kind === "content", now))
        }
        const headers: Record<string, string> = etag === undefined ? {} : { "if-none-match": etag }
        const outcome = yield* Effect.either(
          Effect.tryPromise({
            try: (signal) =>
              octokit.request(route, {
                // Only routes that name the repository get it (account routes such as GET /user do not).
                ...(route.includes("{owner}") ? { owner: options.owner, repo: options.repo } : {}),
                ...params,
                headers,
                request: { signal }
              }),
            catch: octokitError
          })
        )
        const after = yield* Clock.currentTimeMillis
        if (outcome._tag === "Right") {
          const r = outcome.right
          const h = headersOf(r.headers)
          yield* Ref.update(gate, (g) => clearStreak(observeHeaders(g, h)))
          return { status: r.status, data: r.data, headers: h } satisfies RawResponse
        }
        const e = outcome.left
        if (e.response?.status === 304) {
          const h = e.response.headers
          yield* Ref.update(gate, (g) => observeHeaders(g, h))
          return { status: 304, data: undefined, headers: h } satisfies RawResponse
        }
        const { failure, headers: h, retryAfterMs } = classify(e, after)
        yield* Ref.update(gate, (g) => {
          const seen = observeHeaders(g, h)
          if (failure._tag === "RateLimited" && failure.limit === "secondary") return blockSecondary(seen, retryAfterMs, after, limits)
          return failure._tag === "RateLimited" ? seen : clearStreak(seen)
        })
        if (failure._tag === "RateLimited" && failure.limit === "secondary" && retryAfterMs === undefined) {
          // No retry-after: report the backoff the gate now enforces.
          const g = yield* Ref.get(gate)
          return yield* Effect.fail(new RateLimited({ limit: "secondary", retryAfterMs: Math.max(0, g.blockedUntil - after) }))
        }
        return yield* Effect.fail(failure)
      })

    const send = (route: string, params: Record<string, unknown>, opts: RequestOptions, etag: string | undefined): Effect.Effect<RawResponse, GitHubFailure> => {
      const kind = effectiveKind(route, opts.kind ?? "read", typeof params["query"] === "string" ? params["query"] : undefined)
      const once = sendOnce(route, params, kind, etag)
      const serialised = kind === "read" ? once : writeLock.withPermits(1)(once)
      return (opts.retry ?? kind !== "content") ? Effect.retry(serialised, { schedule: transientRetry, while: isTransient }) : serialised
    }

    const decoded = <A, I>(r: RawResponse, schema: Schema.Schema<A, I>, what: string): Effect.Effect<GitHubResponse<A>, GitHubMalformedResponse> =>
      Effect.map(decodeAnswer(schema, what)(r.data), (data) => ({ status: r.status, data, headers: r.headers }))

    const request = <A, I>(route: string, params: Record<string, unknown>, schema: Schema.Schema<A, I>, opts: RequestOptions = {}) =>
      Effect.flatMap(send(route, params, opts, undefined), (r) => decoded(r, schema, route))

    const requestIfChanged = <A, I>(route: string, params: Record<string, unknown>, schema: Schema.Schema<A, I>, etag: string | undefined) =>
      Effect.flatMap(send(route, params, {}, etag), (r) => (r.status === 304 ? Effect.succeed(Option.none()) : Effect.map(decoded(r, schema, route), Option.some)))

    // A GraphQL document's name ("query SkygitPresenceComments(...)"), to say which answer did not decode.
    const operationOf = (query: string): string => `GraphQL ${/^\s*(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? "query"}`

    const graphql = <A, I>(query: string, variables: Record<string, unknown>, schema: Schema.Schema<A, I>, asked: RequestKind = "read") => {
      const kind = effectiveKind("POST /graphql", asked, query)
      const what = operationOf(query)
      return Effect.flatMap(send("POST /graphql", { query, variables }, { kind, retry: kind === "read" }, undefined), (r) =>
        Effect.gen(function* () {
          const body = yield* decodeAnswer(GraphQLEnvelope, what)(r.data ?? {})
          const errors = body.errors ?? []
          if (errors.length === 0) return yield* decodeAnswer(schema, what)(body.data)
          const now = yield* Clock.currentTimeMillis
          // A secondary limit can come back as HTTP 200 with an error ("Rate limits and query
          // limits for the GraphQL API"): honour its retry-after, or back off, for every request.
          if (errors.some((e) => SECONDARY_MESSAGE.test(e.message ?? ""))) {
            const header = r.headers["retry-after"]
            const seconds = Number(header)
            const retryAfterMs = header !== undefined && Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : undefined
            yield* Ref.update(gate, (g) => blockSecondary(g, retryAfterMs, now, limits))
            const g = yield* Ref.get(gate)
            return yield* Effect.fail(new RateLimited({ limit: "secondary", retryAfterMs: Math.max(0, g.blockedUntil - now) }))
          }
          if (errors.some((e) => e.type === "RATE_LIMITED")) {
            const reset = Number(r.headers["x-ratelimit-reset"]) * 1000
            return yield* Effect.fail(new RateLimited({ limit: "primary", retryAfterMs: Number.isFinite(reset) ? Math.max(0, reset - now) : limits.secondaryDefaultRetryMs }))
          }
          const first = errors[0]!
          return yield* Effect.fail(
            new GitHubHttpError({ status: GRAPHQL_ERROR, message: errors.map((e) => e.message ?? "error").join("; "), ...(first.type === undefined ? {} : { type: first.type }) })
          )
        })
      )
    }

    const writeSlot = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const at = nextMutationAt(yield* Ref.get(gate), true, now, limits)
      if (at - now > MAX_WRITE_WAIT_MS) return yield* Effect.fail(new RateLimited({ limit: "secondary", retryAfterMs: at - now }))
      if (at > now) yield* Effect.sleep(at - now)
    })

    const fetchFn = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init))
    const repoUrl = `${options.baseUrl.replace(/\/+$/, "")}/repos/${encodeURIComponent(options.owner)}/${encodeURIComponent(options.repo)}`

    const keepalive = <A, I>(method: "PUT", path: string, body: string, schema: Schema.Schema<A, I>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const refused = refusal(yield* Ref.get(gate), "core", now)
        if (refused !== undefined) return Effect.fail(new RateLimited(refused))
        // The 80-a-minute or 500-an-hour window is full: GitHub would refuse it.
        const slot = nextMutationAt(yield* Ref.get(gate), true, now, limits)
        if (slot - now > MAX_WRITE_WAIT_MS) return Effect.fail(new RateLimited({ limit: "secondary", retryAfterMs: slot - now }))
        // Sent at once (the page is closing), but the next write still keeps its second from it.
        yield* Ref.update(gate, (g) => recordMutation(g, true, now))
        let sent: Promise<Response>
        try {
          sent = fetchFn(`${repoUrl}${path}`, { method, body, keepalive: true, cache: "no-store", headers: keepaliveHeaders(options.token) })
        } catch (e) {
          // Over the browser's keepalive budget, fetch throws at once.
          sent = Promise.reject(e)
        }
        // Nobody may ever wait for the answer (the page is closing): no unhandled rejection.
        sent.catch(() => {})
        return Effect.gen(function* () {
          const answer = yield* Effect.either(
            Effect.tryPromise({
              try: async () => {
                const r = await sent
                const text = await r.text().catch(() => "")
                let data: unknown = undefined
                try {
                  data = text === "" ? undefined : JSON.parse(text)
                } catch {
                  data = text
                }
                return { status: r.status, data, headers: headersOf(Object.fromEntries(r.headers)) }
              },
              catch: (e) => e
            })
          )
          const after = yield* Clock.currentTimeMillis
          if (answer._tag === "Left") {
            const message = answer.left instanceof Error ? answer.left.message : String(answer.left)
            return yield* Effect.fail(new GitHubHttpError({ status: NO_RESPONSE, message }))
          }
          const r = answer.right
          if (r.status >= 200 && r.status < 300) {
            yield* Ref.update(gate, (g) => clearStreak(observeHeaders(g, r.headers)))
            return yield* decoded(r, schema, `${method} ${path}`)
          }
          const { failure, headers: h, retryAfterMs } = classify({ message: `HTTP ${r.status}`, response: r }, after)
          yield* Ref.update(gate, (g) => {
            const seen = observeHeaders(g, h)
            return failure._tag === "RateLimited" && failure.limit === "secondary" ? blockSecondary(seen, retryAfterMs, after, limits) : seen
          })
          return yield* Effect.fail(failure)
        })
      })

    return { owner: options.owner, repo: options.repo, limits, request, requestIfChanged, graphql, gate: Ref.get(gate), writeSlot, keepalive }
  })

/** The session's one GitHub client: presence (either form) and history share it, and so its budget. */
export class GitHub extends Context.Tag("skygit/GitHub")<GitHub, GitHubClient>() {}

/** Layer: one client for `options`; provide it once per session, beneath every GitHub adapter. */
export const layerGitHub = (options: GitHubClientOptions): Layer.Layer<GitHub> => Layer.effect(GitHub, makeGitHubClient(options))
