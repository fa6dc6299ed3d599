/**
 * Decoded boundaries: the hub in-process, with one answer rewritten into a shape GitHub never
 * sends. Each adapter must fail with a typed error whose cause is the client's
 * GitHubMalformedResponse (carrying the Schema's ParseError), never crash or go on with a
 * half-read value; and the same adapter works again once the answers are sound.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Option, ParseResult } from "effect"
import { whoAmI } from "../../src/adapters/github/account.js"
import { GitHub, makeGitHubClient, type GitHubClient } from "../../src/adapters/github/client.js"
import { makeGitHubConversationRepo } from "../../src/adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../../src/adapters/github/discussion-presence.js"
import { GitHubMalformedResponse } from "../../src/adapters/github/errors.js"
import { makeGitHubFilePresence } from "../../src/adapters/github/file-presence.js"
import { ContentsFile } from "../../src/adapters/github/wire.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { createHub } from "../../src/hub/index.js"
import { entry, peer } from "../support/fixtures.js"
import { FAST_LIMITS, NAME, OWNER, REPO, USERS } from "./hub-fixture.js"

/** A rewrite of the answers whose request matches: method and URL in, the JSON to send instead out. */
type Rewrite = { readonly method: string; readonly url: RegExp; readonly body: (real: unknown) => unknown }

/** A hub in-process and a client of `user` whose answers pass through `rewrites` (changed at will). */
const rigged = (user = "alice") =>
  Effect.gen(function* () {
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], limits: FAST_LIMITS }))
    const rewrites: Array<Rewrite> = []
    const fetch = async (url: string, init: RequestInit): Promise<Response> => {
      const answer = await hub.handle(new Request(url, init))
      const method = (init.method ?? "GET").toUpperCase()
      const rule = rewrites.find((r) => r.method === method && r.url.test(url))
      if (rule === undefined || answer.status >= 300) return answer
      const real: unknown = await answer.json()
      return new Response(JSON.stringify(rule.body(real)), { status: answer.status, headers: { "content-type": "application/json" } })
    }
    const client: GitHubClient = yield* makeGitHubClient({
      baseUrl: "http://hub.invalid",
      token: hub.tokenOf(user),
      userAgent: "skygit-test",
      owner: OWNER,
      repo: NAME,
      limits: FAST_LIMITS,
      fetch
    })
    return { hub, client, rewrites }
  })

/** The failure of `exit`, which must be a typed failure (not a defect). */
const failureOf = <E>(exit: Exit.Exit<unknown, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** The GitHubMalformedResponse a port error carries as its cause. */
const malformedCause = (e: unknown): GitHubMalformedResponse => {
  const cause = typeof e === "object" && e !== null && "cause" in e ? e.cause : undefined
  expect(cause).toBeInstanceOf(GitHubMalformedResponse)
  if (!(cause instanceof GitHubMalformedResponse)) throw new Error("no GitHubMalformedResponse cause")
  expect(ParseResult.isParseError(cause.cause)).toBe(true)
  return cause
}

describe("a GitHub answer that does not decode", () => {
  it.live("client.request: a GitHubMalformedResponse naming the route, with the ParseError as cause", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      rewrites.push({ method: "GET", url: /\/repos\/demo\/chat$/, body: () => ({ default_branch: 42 }) })
      const e = failureOf(yield* Effect.exit(client.request("GET /repos/{owner}/{repo}", {}, ContentsFile)))
      expect(e._tag).toBe("GitHubMalformedResponse")
      if (e._tag !== "GitHubMalformedResponse") return
      expect(e.what).toBe("GET /repos/{owner}/{repo}")
      expect(ParseResult.isParseError(e.cause)).toBe(true)
    })
  )

  it.live("file presence: a contents answer without its sha is PresenceUnavailable with the decode error as cause; a sound answer reads again", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      const presence = yield* makeGitHubFilePresence(client)
      yield* presence.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })
      rewrites.push({ method: "GET", url: /\/contents\/\.messages(\/|%2F)presence\.json/, body: (real) => ({ ...Object(real), sha: undefined, content: 7 }) })
      const e = failureOf(yield* Effect.exit(presence.read))
      expect(e._tag).toBe("PresenceUnavailable")
      if (e._tag !== "PresenceUnavailable") return
      expect(e.detail).toContain(PRESENCE_PATH)
      expect(e.detail).toContain("expected shape")
      malformedCause(e)
      rewrites.length = 0
      expect((yield* presence.read).document.entries.map((x) => x.username)).toEqual(["alice"])
    })
  )

  it.live("file presence: a PUT answer without the new blob's sha fails the publish with a typed error, not a crash", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      const presence = yield* makeGitHubFilePresence(client)
      rewrites.push({ method: "PUT", url: /\/contents\//, body: () => ({ content: null }) })
      const e = failureOf(yield* Effect.exit(presence.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })))
      expect(e._tag).toBe("PresenceUnavailable")
      malformedCause(e)
    })
  )

  it.live("Discussion presence: a comments page of the wrong shape is PresenceUnavailable with the decode error as cause", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      const presence = yield* makeGitHubDiscussionPresence(client)
      yield* presence.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })
      // Every GraphQL answer now says comments are a string: the comments query cannot decode.
      rewrites.push({ method: "POST", url: /\/graphql$/, body: () => ({ data: { repository: { discussion: { id: "D", comments: "many" } } } }) })
      const e = failureOf(yield* Effect.exit(presence.read))
      expect(e._tag).toBe("PresenceUnavailable")
      expect(malformedCause(e).what).toBe("GraphQL SkygitPresenceComments")
    })
  )

  it.live("GraphQL: an answer that is not a GraphQL envelope is a typed error too", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      rewrites.push({ method: "POST", url: /\/graphql$/, body: () => ["not", "an", "envelope"] })
      const e = failureOf(yield* Effect.exit(makeGitHubDiscussionPresence(client).pipe(Effect.flatMap((p) => p.read))))
      expect(e._tag).toBe("PresenceUnavailable")
      malformedCause(e)
    })
  )

  it.live("conversation repository: a branch ref without its object is RepoUnavailable with the decode error as cause", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      const repo = yield* makeGitHubConversationRepo(client)
      const presence = yield* makeGitHubFilePresence(client)
      // The first presence write creates the branch, so its ref exists to be read.
      yield* presence.publish({ ...noChange, upsert: [entry(peer("alice"), yield* Clock.currentTimeMillis)] })
      rewrites.push({ method: "GET", url: /\/git\/ref\/heads%2Fskygit|\/git\/ref\/heads\/skygit/, body: () => ({ ref: "refs/heads/skygit" }) })
      const e = failureOf(yield* Effect.exit(repo.head))
      expect(e._tag).toBe("RepoUnavailable")
      malformedCause(e)
    })
  )

  it.live("sign-in: GET /user without a login is a GitHubMalformedResponse", () =>
    Effect.gen(function* () {
      const { client, rewrites } = yield* rigged()
      rewrites.push({ method: "GET", url: /\/user$/, body: () => ({ name: "no login here" }) })
      const e = failureOf(yield* Effect.exit(Effect.provideService(whoAmI, GitHub, client)))
      expect(e._tag).toBe("GitHubMalformedResponse")
    })
  )
})
