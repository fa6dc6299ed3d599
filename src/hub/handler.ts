/**
 * The fetch-style request handler: CORS, faults, auth, routing, budgets, ETag/304 and
 * GitHub's response headers, in that order. State changes run one request at a time.
 */
import { createHash } from "node:crypto"
import { charge, limitedReply, rateHeaders, type Resource } from "./budget-gate.js"
import { corsHeaders, preflight, refusedBrowserHeader } from "./cors.js"
import { emptyReadRefusal, writeRefusal } from "./fault-gate.js"
import { defaultFaultBody, type FaultBook } from "./faults.js"
import { ghError, json, notFound, type Ctx, type Reply, type Route } from "./http.js"
import { statsOf, type Account, type HubState } from "./state.js"

/** One request and its answer, as the conformance recorder sees it. */
export interface Exchange {
  readonly method: string
  readonly url: string
  readonly requestHeaders: Readonly<Record<string, string>>
  readonly requestBody: unknown
  readonly status: number
  readonly responseHeaders: Readonly<Record<string, string>>
  readonly responseBody: unknown
  /** Who answered: the hub itself, an injected fault, or the browser-CORS emulation. */
  readonly source: "hub" | "fault" | "cors"
}

/** Answers `POST /graphql`; charges its own budget. */
export type GraphqlHandler = (ctx: Ctx) => Promise<Reply>

/** GitHub's 401 for a token it does not know. */
export const BAD_CREDENTIALS = "Bad credentials"

const AUTH = /^(?:token|bearer)\s+(\S+)$/i

const etagOf = (bytes: Uint8Array, accept: string): string =>
  `W/"${createHash("sha1").update(accept).update(bytes).digest("hex")}"`

const matchesEtag = (header: string | null, etag: string): boolean => {
  if (header === null) return false
  const bare = (s: string) => s.trim().replace(/^W\//, "")
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag))
}

const bodyBytes = (reply: Reply): Uint8Array =>
  reply.raw ?? (reply.body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(reply.body)))

/** A serial section: state-changing work of one request finishes before the next starts. */
const mutex = () => {
  let tail: Promise<unknown> = Promise.resolve()
  return <A>(f: () => Promise<A>): Promise<A> => {
    const run = tail.then(f, f)
    tail = run.catch(() => undefined)
    return run
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Builds the hub's handler over its state, rules and routes. */
export const makeHandler = (
  state: HubState,
  faults: FaultBook,
  routes: ReadonlyArray<Route>,
  graphql: GraphqlHandler,
  listeners: Set<(e: Exchange) => void>
): ((request: Request) => Promise<Response>) => {
  const serial = mutex()
  let requestSerial = 0

  const userOf = (request: Request): Account | undefined | "bad" => {
    const header = request.headers.get("authorization")
    if (header === null) return undefined
    const token = AUTH.exec(header)?.[1]
    const login = token === undefined ? undefined : state.tokens.get(token)
    return login === undefined ? "bad" : state.accounts.get(login)
  }

  const finish = (request: Request, url: URL, ctxUser: Account | undefined, resource: Resource, reply: Reply, requestBody: unknown, source: Exchange["source"] = "hub"): Response => {
    const headers: Record<string, string> = {
      ...corsHeaders,
      "cache-control": "private, max-age=60, s-maxage=60",
      vary: "Accept, Authorization, Cookie, X-GitHub-OTP",
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": `HUB:${(++requestSerial).toString(16).toUpperCase()}`,
      "x-oauth-scopes": "repo",
      "x-accepted-oauth-scopes": "",
      "content-type": "application/json; charset=utf-8"
    }
    if (ctxUser !== undefined) Object.assign(headers, rateHeaders(state, ctxUser.login, resource, state.now()))
    Object.assign(headers, reply.headers ?? {})
    const bytes = reply.status === 204 || reply.status === 304 ? new Uint8Array() : bodyBytes(reply)
    if (reply.status === 204 || reply.status === 304) delete headers["content-type"]
    if (listeners.size > 0) {
      const exchange: Exchange = {
        method: request.method,
        url: url.toString(),
        requestHeaders: Object.fromEntries(request.headers),
        requestBody,
        status: reply.status,
        responseHeaders: headers,
        responseBody: reply.raw !== undefined ? new TextDecoder().decode(reply.raw) : reply.body,
        source
      }
      for (const l of listeners) l(exchange)
    }
    return new Response(bytes.length === 0 ? null : bytes.slice(), { status: reply.status, headers })
  }

  const handleLocked = async (request: Request, url: URL, text: string): Promise<{ reply: Reply; user: Account | undefined; resource: Resource; body: unknown }> => {
    const resource: Resource = url.pathname === "/graphql" ? "graphql" : "core"
    const found = userOf(request)
    if (found === "bad") return { reply: ghError(401, BAD_CREDENTIALS), user: undefined, resource, body: text }
    const user = found
    let body: unknown = {}
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text)
      } catch {
        return { reply: ghError(400, "Problems parsing JSON"), user, resource, body: text }
      }
    }
    const done = (reply: Reply) => ({ reply, user, resource, body })
    if (typeof body !== "object" || body === null || Array.isArray(body)) return done(ghError(400, "Problems parsing JSON"))
    const now = state.now()
    const ctx: Ctx = { request, url, base: url.origin, user, state, now, body: body as Record<string, unknown> }
    if (resource === "graphql" && request.method === "POST") {
      if (user === undefined) return done(ghError(401, "This endpoint requires you to be authenticated."))
      return done(await graphql(ctx))
    }
    let params: ReadonlyArray<string> | undefined
    const route = routes.find((r) => {
      if (r.method !== request.method) return false
      const m = r.pattern.exec(url.pathname)
      params = m?.slice(1).map((p) => p ?? "")
      return m !== null
    })
    if (user !== undefined && (route === undefined || params === undefined)) {
      // GitHub counts a request to an unknown path like any other.
      const verdict = charge(state, user.login, "core", false, now)
      return done(verdict._tag === "Limited" ? limitedReply(state, user.login, verdict) : notFound())
    }
    if (route === undefined || params === undefined) return done(notFound())
    if (user === undefined) {
      return done(url.pathname.startsWith("/user") ? ghError(401, "Requires authentication") : notFound())
    }
    if (route.free === true) return done(await route.handle(ctx, params))
    if (request.method === "GET") {
      // Reads have no side effects: answer first, then decide whether it was a free 304.
      const reply = (await emptyReadRefusal(ctx)) ?? (await route.handle(ctx, params))
      if (reply.status === 200) {
        const etag = etagOf(bodyBytes(reply), request.headers.get("accept") ?? "")
        if (matchesEtag(request.headers.get("if-none-match"), etag)) {
          statsOf(state, user.login).notModified++
          return done({ status: 304, headers: { ...reply.headers, etag } })
        }
        const verdict = charge(state, user.login, "core", false, now)
        if (verdict._tag === "Limited") return done(limitedReply(state, user.login, verdict))
        return done({ ...reply, headers: { ...reply.headers, etag, "last-modified": new Date(now).toUTCString() } })
      }
      const verdict = charge(state, user.login, "core", false, now)
      return done(verdict._tag === "Limited" ? limitedReply(state, user.login, verdict) : reply)
    }
    const verdict = charge(state, user.login, "core", route.contentCreating === true, now)
    if (verdict._tag === "Limited") return done(limitedReply(state, user.login, verdict))
    const refused = await writeRefusal(ctx)
    return done(refused ?? (await route.handle(ctx, params)))
  }

  return async (request) => {
    const url = new URL(request.url)
    if (request.method === "OPTIONS") return preflight()
    const refused = refusedBrowserHeader(request)
    if (refused !== undefined) {
      return finish(request, url, undefined, "core", ghError(400, `CORS preflight refuses request header ${refused}`), undefined, "cors")
    }
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text()
    const fault = faults.take(request.method, url.pathname)
    if (fault !== undefined && "delayMs" in fault) await sleep(fault.delayMs)
    return serial(async () => {
      if (fault !== undefined && "status" in fault) {
        const found = userOf(request)
        const user = found === "bad" ? undefined : found
        if (user !== undefined) {
          const s = statsOf(state, user.login)
          if (fault.status === 409 || fault.status === 422) s.conflicts++
          if (fault.status === 403 || fault.status === 429) s.rateLimited++
        }
        const reply = json(fault.status, fault.body ?? defaultFaultBody(fault.status), fault.headers)
        return finish(request, url, user, url.pathname === "/graphql" ? "graphql" : "core", reply, text, "fault")
      }
      try {
        const { reply, user, resource, body } = await handleLocked(request, url, text)
        return finish(request, url, user, resource, reply, body)
      } catch (e) {
        // Never crash on bad input: an unexpected failure is GitHub's 500, not a dead hub.
        return finish(request, url, undefined, "core", ghError(500, `Server Error: ${String(e)}`), text)
      }
    })
  }
}
