/**
 * The Discussion form against real GitHub's behaviours (hub faults): found in a constant
 * number of requests among many discussions, a category the user may post in or a clear
 * message, comments edited by someone else skipped, bodies held to 65,536 characters.
 */
import { expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Schema } from "effect"
import { fittedComment, makeGitHubDiscussionPresence, MAX_COMMENT_BODY_CHARS } from "../../src/adapters/github/discussion-presence.js"
import { presenceTitle } from "../../src/adapters/github/discussion-locate.js"
import { emptyDocument, noChange } from "../../src/domain/presence-doc.js"
import { entry, peer, signal } from "../support/fixtures.js"
import { NAME, OWNER, servedHub } from "./hub-fixture.js"

const heartbeat = (user: string) => Effect.map(Clock.currentTimeMillis, (now) => ({ ...noChange, upsert: [entry(peer(user), now)] }))
const graphqlCalls = (exchanges: ReadonlyArray<{ url: string }>) => exchanges.filter((e) => e.url.endsWith("/graphql")).length

it.scopedLive("among 250 discussions the presence Discussion is found by search in two requests, and every client finds the same one", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["many-discussions:250"] })
    const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    yield* alice.publish(yield* heartbeat("alice"))
    const before = graphqlCalls(s.exchanges)
    const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
    const seen = yield* bob.read
    expect(seen.document.entries.map((e) => e.username)).toEqual(["alice"])
    // Locate (first page, then search) and one page of comments.
    expect(graphqlCalls(s.exchanges) - before).toBe(3)
  })
)

it.scopedLive("with only Announcements, a non-maintainer is told a maintainer must create the Discussion with its exact title; then it works", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["announcements-only", "maintainer-edits:carol"] })
    const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    const exit = yield* Effect.exit(alice.publish(yield* heartbeat("alice")))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain(`a maintainer must create the Discussion titled exactly \\"${presenceTitle(OWNER, NAME)}\\"`)
    const carol = yield* makeGitHubDiscussionPresence(yield* s.client("carol"))
    yield* carol.publish(yield* heartbeat("carol"))
    yield* alice.publish(yield* heartbeat("alice"))
    expect((yield* carol.read).document.entries.map((e) => e.username).sort()).toEqual(["alice", "carol"])
  })
)

it.scopedLive("a comment last edited by someone other than its author is skipped with a reason; the author's next heartbeat restores it", () =>
  Effect.gen(function* () {
    const s = yield* servedHub({ faults: ["maintainer-edits:carol"] })
    const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
    const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
    yield* alice.publish(yield* heartbeat("alice"))
    yield* bob.publish(yield* heartbeat("bob"))
    // carol (maintain access) rewrites alice's comment to claim bob's entry is hers.
    const carol = yield* s.client("carol")
    const page = yield* carol.graphql(
      `query { repository(owner: "${OWNER}", name: "${NAME}") { discussion(number: 1) { comments(first: 10) { nodes { id author { login } } } } } }`,
      {},
      Schema.Struct({
        repository: Schema.Struct({
          discussion: Schema.Struct({ comments: Schema.Struct({ nodes: Schema.Array(Schema.Struct({ id: Schema.String, author: Schema.Struct({ login: Schema.String }) })) }) })
        })
      })
    )
    const aliceComment = page.repository.discussion.comments.nodes.find((c) => c.author.login === "alice")!
    const forged = "```json\n" + JSON.stringify({ v: 1, entries: [], signals: [] }) + "\n```"
    yield* carol.graphql(`mutation($id: ID!, $b: String!) { updateDiscussionComment(input: {commentId: $id, body: $b}) { comment { id } } }`, { id: aliceComment.id, b: forged }, Schema.Unknown, "content")
    const seen = yield* bob.read
    expect(seen.document.entries.map((e) => e.username)).toEqual(["bob"])
    expect(seen.skipped.map((x) => x.detail).join("\n")).toMatch(/comment by alice was edited by carol at .*: skipped/)
    yield* alice.publish(yield* heartbeat("alice"))
    expect((yield* bob.read).document.entries.map((e) => e.username).sort()).toEqual(["alice", "bob"])
  })
)

it("a sponsor's batch of signals is trimmed, oldest first, to fit GitHub's 65,536-character comment body", () => {
  const now = Date.UTC(2026, 0, 1)
  // Offers carry whole SDPs (a few KB each): 40 of them are far over the limit.
  const signals = Array.from({ length: 40 }, (_, i) => ({ ...signal(peer("alice"), peer(`user${i}`), now + i), description: { type: "offer" as const, sdp: `v=0 ${"x".repeat(4_000)}` } }))
  const doc = { ...emptyDocument, entries: [entry(peer("alice"), now)], signals }
  const fitted = fittedComment(doc)!
  expect(fitted.body.length).toBeLessThanOrEqual(MAX_COMMENT_BODY_CHARS)
  expect(fitted.dropped).toBeGreaterThan(0)
  // What is kept is the newest signals, and as many as fit.
  expect(fitted.document.signals.map((x) => x.at)).toEqual(signals.slice(fitted.dropped).map((x) => x.at))
  expect(fittedComment({ ...doc, signals: signals.slice(fitted.dropped - 1) })!.dropped).toBe(1)
  expect(fittedComment({ ...doc, signals: [] })!.dropped).toBe(0)
})
