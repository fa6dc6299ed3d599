/**
 * The GitHub adapters against the hub's real-GitHub faults: permanent refusals (no push
 * access, protection, archived, empty) are typed, explained in plain words and never
 * retried; GraphQL secondary limits answered with HTTP 200 are recognised and honoured.
 */
import { expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option } from "effect"
import { makeGitHubConversationRepo } from "../../src/adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../../src/adapters/github/discussion-presence.js"
import { makeGitHubFilePresence } from "../../src/adapters/github/file-presence.js"
import { classifyWrite } from "../../src/adapters/github/refusals.js"
import { GitHubHttpError } from "../../src/adapters/github/errors.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { entry, message, peer } from "../support/fixtures.js"
import { servedHub, type ServedHub } from "./hub-fixture.js"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  if (exit.cause._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return exit.cause.error
}
const writesOf = (s: ServedHub) => s.exchanges.filter((e) => e.method !== "GET").length
const commitOnce = (user: string, s: ServedHub) =>
  Effect.gen(function* () {
    const repo = yield* makeGitHubConversationRepo(yield* s.client(user))
    const now = yield* Clock.currentTimeMillis
    return failureOf(yield* Effect.exit(repo.commit({ expectedHead: Option.none(), messages: [message("m", now)], at: now })))
  })

it("races and permanent refusals are told apart by status and message", () => {
  const t = { owner: "o", repo: "r", branch: "skygit" }
  const kind = (status: number, message: string) => classifyWrite(new GitHubHttpError({ status, message }), t)._tag
  expect(kind(409, ".messages/presence.json does not match abc")).toBe("Race")
  expect(kind(409, "is at 1111111 but expected 2222222")).toBe("Race")
  expect(kind(422, "Update is not a fast forward")).toBe("Race")
  expect(kind(409, 'Could not create file: Required status check "ci" is expected.')).toBe("Permanent")
  expect(kind(422, "Repository rule violations found\n\nChanges must be made through a pull request.")).toBe("Permanent")
  expect(kind(403, "Repository was archived so is read-only.")).toBe("Permanent")
  expect(kind(409, "Git Repository is empty.")).toBe("Permanent")
  expect(kind(404, "Not Found")).toBe("Permanent")
  expect(kind(404, "Branch skygit not found")).toBe("Other")
  expect(kind(500, "Server Error")).toBe("Other")
})

it.scopedLive("read-only: canPush is false; the user's commit and presence write are refused once, in plain words", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["read-only:bob"] })
    const bobRepo = yield* makeGitHubConversationRepo(yield* s.client("bob"))
    const aliceRepo = yield* makeGitHubConversationRepo(yield* s.client("alice"))
    expect(yield* bobRepo.canPush!).toBe(false)
    expect(yield* aliceRepo.canPush!).toBe(true)
    const before = writesOf(s)
    const refused = yield* commitOnce("bob", s)
    expect(refused._tag).toBe("RepoRefused")
    expect(refused).toMatchObject({ reason: "permission" })
    expect(JSON.stringify(refused)).toContain("cannot push to demo/chat")
    // One refused request, not a storm of retries.
    expect(writesOf(s) - before).toBe(1)
    const presence = yield* makeGitHubFilePresence(yield* s.client("bob"))
    const now = yield* Clock.currentTimeMillis
    const beforePresence = writesOf(s)
    const p = failureOf(yield* Effect.exit(presence.publish({ ...noChange, upsert: [entry(peer("bob"), now)] })))
    // The file form needs push access: said in its own words, permanent, and without a refused write.
    expect(p).toMatchObject({ _tag: "PresenceUnavailable", permanent: true })
    expect(JSON.stringify(p)).toContain("You can read demo/chat but not push; file-form presence needs push access")
    expect(writesOf(s) - beforePresence).toBe(0)
  })
)

it.scopedLive("protected, archived and empty repositories refuse commits once, each with what to do", () =>
  Effect.gen(function* () {
    const cases = [
      { fault: "protected:skygit", reason: "protected", words: "branch protection or a ruleset" },
      { fault: "archived", reason: "archived", words: "unarchives" },
      { fault: "empty", reason: "empty", words: "push a first commit" }
    ]
    for (const c of cases) {
      const s = yield* servedHub({ faults: [c.fault] })
      const refused = yield* commitOnce("alice", s)
      expect([c.fault, refused._tag, (refused as { reason?: string }).reason]).toEqual([c.fault, "RepoRefused", c.reason])
      expect(JSON.stringify(refused)).toContain(c.words)
      // At most the orphan branch's tree, commit and ref: never retried.
      expect(writesOf(s)).toBeLessThanOrEqual(3)
    }
  })
)

it.scopedLive("a protected skygit branch refuses presence writes once, not in a storm of compare-and-swap retries", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["protected:skygit"] })
    const presence = yield* makeGitHubFilePresence(yield* s.client("alice"))
    const now = yield* Clock.currentTimeMillis
    const p = failureOf(yield* Effect.exit(presence.publish({ ...noChange, upsert: [entry(peer("alice"), now)] })))
    expect(p._tag).toBe("PresenceUnavailable")
    expect(JSON.stringify(p)).toContain("branch protection or a ruleset")
    expect(writesOf(s)).toBeLessThanOrEqual(3)
  })
)

it.scopedLive("a GraphQL secondary limit answered HTTP 200 is PresenceRateLimited with its retry-after, and later requests wait", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["graphql-secondary:1"] })
    const presence = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    const first = failureOf(yield* Effect.exit(presence.read))
    expect(first._tag).toBe("PresenceRateLimited")
    expect(first).toMatchObject({ limit: "secondary" })
    expect((first as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000)
    const asked = s.exchanges.length
    const again = failureOf(yield* Effect.exit(presence.read))
    expect(again._tag).toBe("PresenceRateLimited")
    // Refused by the client's own gate: nothing reached GitHub.
    expect(s.exchanges.length).toBe(asked)
  })
)
