/**
 * Bad input and refusals over the hub via real HTTP: corrupt and oversized presence files,
 * missing files, 500s, 409 storms, an exhausted budget and secondary limits. The adapters
 * answer typed errors, nothing is lost, nothing throws.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option } from "effect"
import { makeGitHubConversationRepo } from "../../src/adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../../src/adapters/github/discussion-presence.js"
import { makeGitHubFilePresence, MAX_PUBLISH_ATTEMPTS } from "../../src/adapters/github/file-presence.js"
import { githubLimits } from "../../src/domain/budget.js"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { entry, message, peer } from "../support/fixtures.js"
import { FAST_LIMITS, REPO, servedHub } from "./hub-fixture.js"

const heartbeat = (user: string, session = "s1") => Effect.map(Clock.currentTimeMillis, (now) => ({ ...noChange, upsert: [entry(peer(user, session), now)] }))
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const f = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (f === undefined) throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return f
}

describe("file presence under bad input", () => {
  it.scopedLive("a 5 MB presence file fails reads with a reason, quickly, and the next publish replaces it", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubFilePresence(yield* s.client("alice"))
      const bob = yield* makeGitHubFilePresence(yield* s.client("bob"))
      yield* alice.publish(yield* heartbeat("alice"))
      yield* Effect.promise(() => s.hub.faults.corruptFile(REPO, "skygit", PRESENCE_PATH, "x".repeat(5 * 1024 * 1024)))
      const bad = failureOf(yield* Effect.exit(bob.read))
      expect(bad._tag).toBe("PresenceMalformed")
      expect(JSON.stringify(bad)).toContain("1 MB")
      // Still malformed when unchanged (a 304 must not resurrect the old document).
      expect(failureOf(yield* Effect.exit(bob.read))._tag).toBe("PresenceMalformed")
      yield* bob.publish(yield* heartbeat("bob"))
      const seen = yield* alice.read
      expect(seen.document.entries.map((e) => e.username)).toEqual(["bob"])
    })
  )

  it.scopedLive("a missing file or branch reads as an empty channel", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const bob = yield* makeGitHubFilePresence(yield* s.client("bob"))
      const seen = yield* bob.read
      expect(seen.document.entries).toEqual([])
      expect(seen.skipped).toEqual([])
    })
  )

  it.scopedLive("one 500 is retried; persistent 500s are PresenceUnavailable with the status", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubFilePresence(yield* s.client("alice"))
      yield* alice.publish(yield* heartbeat("alice"))
      s.hub.faults.inject({ method: "GET", path: /\/contents\//, respond: { status: 500 } })
      expect((yield* alice.read).document.entries.length).toBe(1)
      s.hub.faults.inject({ method: "GET", path: /\/contents\//, times: 10, respond: { status: 500 } })
      const down = failureOf(yield* Effect.exit(alice.read))
      expect(down._tag).toBe("PresenceUnavailable")
      expect(JSON.stringify(down)).toContain("500")
      s.hub.faults.clear()
      expect((yield* alice.read).document.entries.length).toBe(1)
    })
  )

  it.scopedLive("a 409 storm ends in PresenceConflict after bounded retries; nothing already written is lost", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubFilePresence(yield* s.client("alice"))
      const bob = yield* makeGitHubFilePresence(yield* s.client("bob"))
      yield* alice.publish(yield* heartbeat("alice"))
      s.hub.faults.inject({ method: "PUT", path: /\/contents\//, times: 3, respond: { status: 409 } })
      yield* bob.publish(yield* heartbeat("bob"))
      s.hub.faults.inject({ method: "PUT", path: /\/contents\//, times: MAX_PUBLISH_ATTEMPTS + 5, respond: { status: 409 } })
      const lost = failureOf(yield* Effect.exit(bob.publish(yield* heartbeat("bob", "s2"))))
      expect(lost._tag).toBe("PresenceConflict")
      s.hub.faults.clear()
      yield* bob.publish(yield* heartbeat("bob", "s2"))
      const seen = yield* alice.read
      expect(seen.document.entries.map((e) => `${e.username}/${e.sessionId}`).sort()).toEqual(["alice/s1", "bob/s1", "bob/s2"])
    })
  )
})

describe("budgets", () => {
  it.scopedLive("an exhausted primary budget is RateLimited (both ports), then refused locally until reset", () =>
    Effect.gen(function* () {
      const limits = { ...FAST_LIMITS, primaryPerHour: 4 }
      const s = yield* servedHub({ limits })
      const client = yield* s.client("alice", limits)
      const presence = yield* makeGitHubFilePresence(client)
      const repo = yield* makeGitHubConversationRepo(client)
      const outcomes = []
      for (let i = 0; i < 6; i++) outcomes.push(yield* Effect.exit(presence.publish(yield* heartbeat("alice", `s${i}`))))
      const limited = outcomes.filter(Exit.isFailure).map(failureOf)
      expect(limited.length).toBeGreaterThan(0)
      for (const f of limited) {
        expect(f).toMatchObject({ _tag: "RateLimited", limit: "primary" })
        expect((f as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0)
      }
      const sent = s.exchanges.length
      const repoFail = failureOf(yield* Effect.exit(repo.head))
      expect(repoFail).toMatchObject({ _tag: "RateLimited", limit: "primary" })
      // Known to be exhausted: refused without asking GitHub again.
      expect(s.exchanges.length).toBe(sent)
    })
  )

  it.scopedLive("a secondary limit with retry-after is honoured, then the write goes through", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubFilePresence(yield* s.client("alice"))
      const bob = yield* makeGitHubFilePresence(yield* s.client("bob"))
      yield* alice.publish(yield* heartbeat("alice"))
      s.hub.faults.inject({ method: "PUT", path: /\/contents\//, respond: { status: 403, headers: { "retry-after": "1" } } })
      const first = failureOf(yield* Effect.exit(alice.publish(yield* heartbeat("alice", "s2"))))
      expect(first).toEqual(expect.objectContaining({ _tag: "RateLimited", limit: "secondary", retryAfterMs: 1000 }))
      const sent = s.exchanges.length
      const again = failureOf(yield* Effect.exit(alice.publish(yield* heartbeat("alice", "s2"))))
      expect(again).toMatchObject({ _tag: "RateLimited", limit: "secondary" })
      expect(s.exchanges.length).toBe(sent)
      yield* Effect.sleep("1100 millis")
      yield* alice.publish(yield* heartbeat("alice", "s2"))
      expect((yield* bob.read).document.entries.map((e) => e.sessionId).sort()).toEqual(["s1", "s2"])
    })
  )

  it.scopedLive("a full content window is reported as a secondary limit before asking GitHub", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubFilePresence(yield* s.client("alice"))
      yield* alice.publish(yield* heartbeat("alice"))
      const bob = yield* makeGitHubFilePresence(yield* s.client("bob", { ...FAST_LIMITS, contentPerMinute: 2 }))
      yield* bob.publish(yield* heartbeat("bob"))
      yield* bob.publish(yield* heartbeat("bob"))
      const sent = s.exchanges.length
      const f = failureOf(yield* Effect.exit(bob.publish(yield* heartbeat("bob"))))
      expect(f).toMatchObject({ _tag: "RateLimited", limit: "secondary" })
      expect((f as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(5_000)
      expect(s.exchanges.length).toBe(sent)
    })
  )

  it.scopedLive("a secondary limit without retry-after backs off at least a minute (domain backoffMs)", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const repo = yield* makeGitHubConversationRepo(yield* s.client("alice"))
      s.hub.faults.inject({ method: "POST", path: /\/git\/refs$/, respond: { status: 403 } })
      const now = yield* Clock.currentTimeMillis
      const f = failureOf(yield* Effect.exit(repo.commit({ expectedHead: Option.none(), messages: [message("m", now)], at: now })))
      expect(f).toMatchObject({ _tag: "RateLimited", limit: "secondary" })
      expect((f as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(githubLimits.secondaryDefaultRetryMs - 1_000)
    })
  )

  it.scopedLive("GraphQL: a secondary limit is RateLimited, an exhausted budget (HTTP 200 error body) too", () =>
    Effect.gen(function* () {
      const limits = { ...FAST_LIMITS, primaryPerHour: 3 }
      const s = yield* servedHub({ limits })
      const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice", limits))
      s.hub.faults.inject({ method: "graphql", respond: { status: 403, headers: { "retry-after": "0" } } })
      expect(failureOf(yield* Effect.exit(alice.read))).toMatchObject({ _tag: "RateLimited", limit: "secondary" })
      const outcomes = []
      for (let i = 0; i < 5; i++) outcomes.push(yield* Effect.exit(alice.publish(yield* heartbeat("alice"))))
      expect(outcomes.filter(Exit.isFailure).map(failureOf).some((f) => f._tag === "RateLimited" && f.limit === "primary")).toBe(true)
    })
  )
})

describe("conversation repo under bad input", () => {
  it.scopedLive("a 500 on the ref update is RepoUnavailable; a retry lands and nothing is lost or doubled", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const repo = yield* makeGitHubConversationRepo(yield* s.client("alice"))
      const now = yield* Clock.currentTimeMillis
      const first = yield* repo.commit({ expectedHead: Option.none(), messages: [message("a", now)], at: now })
      s.hub.faults.inject({ method: "PATCH", path: /\/git\/refs\//, respond: { status: 500 } })
      const down = failureOf(yield* Effect.exit(repo.commit({ expectedHead: Option.some(first.head), messages: [message("b", now + 1)], at: now + 1 })))
      expect(down._tag).toBe("RepoUnavailable")
      expect(JSON.stringify(down)).toContain("500")
      yield* repo.commit({ expectedHead: Option.some(first.head), messages: [message("b", now + 1)], at: now + 1 })
      expect((yield* repo.readSince(0)).messages.map((m) => m.id)).toEqual(["a", "b"])
    })
  )

  it.scopedLive("a 422 storm on the ref update ends in RepoConflict after bounded rebases", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const repo = yield* makeGitHubConversationRepo(yield* s.client("alice"))
      const now = yield* Clock.currentTimeMillis
      const first = yield* repo.commit({ expectedHead: Option.none(), messages: [message("a", now)], at: now })
      s.hub.faults.inject({ method: "PATCH", path: /\/git\/refs\//, times: 50, respond: { status: 422, body: { message: "Update is not a fast forward", documentation_url: "x", status: "422" } } })
      const f = failureOf(yield* Effect.exit(repo.commit({ expectedHead: Option.some(first.head), messages: [message("b", now)], at: now + 1 })))
      expect(f._tag).toBe("RepoConflict")
    })
  )

  it.scopedLive("presence heartbeats moving the branch do not make a flush conflict", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const client = yield* s.client("alice")
      const repo = yield* makeGitHubConversationRepo(client)
      const presence = yield* makeGitHubFilePresence(yield* s.client("bob"))
      const now = yield* Clock.currentTimeMillis
      yield* presence.publish(yield* heartbeat("bob"))
      const head = yield* repo.head
      const first = yield* repo.commit({ expectedHead: head, messages: [message("a", now)], at: now })
      yield* presence.publish(yield* heartbeat("bob", "s2"))
      yield* repo.commit({ expectedHead: Option.some(first.head), messages: [message("b", now)], at: now + 1 })
      expect((yield* repo.readSince(0)).messages.map((m) => m.id)).toEqual(["a", "b"])
      expect((yield* presence.read).document.entries.length).toBe(2)
    })
  )

  it.scopedLive("a missing blob is RepoUnavailable, not a crash", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const repo = yield* makeGitHubConversationRepo(yield* s.client("alice"))
      const now = yield* Clock.currentTimeMillis
      yield* repo.commit({ expectedHead: Option.none(), messages: [message("a", now)], at: now })
      const other = yield* makeGitHubConversationRepo(yield* s.client("bob"))
      s.hub.faults.inject({ method: "GET", path: /\/git\/blobs\//, respond: { status: 404 } })
      expect(failureOf(yield* Effect.exit(other.readSince(0)))._tag).toBe("RepoUnavailable")
      expect((yield* other.readSince(0)).messages.map((m) => m.id)).toEqual(["a"])
    })
  )
})
