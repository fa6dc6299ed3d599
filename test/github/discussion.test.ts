/** The Discussion form over the hub: racing creators, one comment per user, clear setup errors. */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Schema } from "effect"
import { makeGitHubDiscussionPresence } from "../../src/adapters/github/discussion-presence.js"
import { locateDiscussion, presenceTitle } from "../../src/adapters/github/discussion-locate.js"
import * as Q from "../../src/adapters/github/discussion-queries.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { checkGraphqlDocument } from "../../src/hub/conformance.js"
import { entry, peer } from "../support/fixtures.js"
import { NAME, OWNER, servedHub, USERS } from "./hub-fixture.js"

const heartbeat = (user: string, session = "s1") => Effect.map(Clock.currentTimeMillis, (now) => ({ ...noChange, upsert: [entry(peer(user, session), now)] }))

const LIST = `query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    discussions(first: 100) { nodes { number title comments(first: 100) { nodes { author { login } } } } }
  }
}`
const Listing = Schema.Struct({
  repository: Schema.Struct({
    discussions: Schema.Struct({
      nodes: Schema.Array(
        Schema.Struct({
          number: Schema.Number,
          title: Schema.String,
          comments: Schema.Struct({ nodes: Schema.Array(Schema.Struct({ author: Schema.NullOr(Schema.Struct({ login: Schema.String })) })) })
        })
      )
    })
  })
})

const sentMutations = (exchanges: ReadonlyArray<{ url: string; requestBody: unknown; requestHeaders: Readonly<Record<string, string>> }>, name: string) =>
  exchanges.filter((e) => e.url.endsWith("/graphql") && JSON.stringify(e.requestBody).includes(name)).length

describe("Discussion presence", () => {
  it("every GraphQL document SkyGit sends is valid against GitHub's published schema", () => {
    const docs = [Q.FIND_PRESENCE, Q.SEARCH_PRESENCE, Q.CREATE_PRESENCE, Q.DELETE_DISCUSSION, Q.PRESENCE_COMMENTS, Q.ADD_COMMENT, Q.UPDATE_COMMENT, Q.DELETE_COMMENT]
    expect(docs.flatMap((d) => checkGraphqlDocument(d))).toEqual([])
  })

  it.scopedLive("five clients racing to create the Discussion converge on one; each user has one comment", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const clients = yield* Effect.forEach(USERS, (u) => Effect.flatMap(s.client(u), makeGitHubDiscussionPresence))
      yield* Effect.forEach(clients, (c, i) => Effect.flatMap(heartbeat(USERS[i]!), c.publish), { concurrency: "unbounded" })
      const reader = yield* s.client("alice")
      const list = yield* reader.graphql(LIST, { owner: OWNER, name: NAME }, Listing)
      const presence = list.repository.discussions.nodes.filter((d) => d.title === presenceTitle(OWNER, NAME))
      expect(presence.length).toBe(1)
      expect(presence[0]!.comments.nodes.map((c) => c.author?.login).sort()).toEqual([...USERS].sort())
      const seen = yield* clients[0]!.read
      expect(seen.document.entries.map((e) => e.username).sort()).toEqual([...USERS].sort())
    })
  )

  it.scopedLive("concurrent locates from many clients all pick the same Discussion", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const clients = yield* Effect.forEach([...USERS, ...USERS], (u) => s.client(u))
      const found = yield* Effect.forEach(clients, (c) => locateDiscussion(c), { concurrency: "unbounded" })
      expect(new Set(found.map((d) => d.number)).size).toBe(1)
    })
  )

  it.scopedLive("heartbeats edit the one comment: one add, then updates only", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      for (let i = 0; i < 4; i++) yield* alice.publish(yield* heartbeat("alice"))
      expect(sentMutations(s.exchanges, "SkygitAddPresence")).toBe(1)
      expect(sentMutations(s.exchanges, "SkygitUpdatePresence")).toBe(3)
    })
  )

  it.scopedLive("two tabs of one user share the user's comment without dropping each other's session", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const tab1 = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      const tab2 = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      yield* tab1.publish(yield* heartbeat("alice", "t1"))
      yield* tab2.publish(yield* heartbeat("alice", "t2"))
      yield* tab1.read
      yield* tab1.publish(yield* heartbeat("alice", "t1"))
      expect((yield* tab2.read).document.entries.map((e) => e.sessionId).sort()).toEqual(["t1", "t2"])
      expect(sentMutations(s.exchanges, "SkygitAddPresence")).toBe(1)
    })
  )

  it.scopedLive("an edit of a comment deleted since is a lost race: the tab reads again and edits the comment another tab added", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const aliceClient = yield* s.client("alice")
      const tab1 = yield* makeGitHubDiscussionPresence(aliceClient)
      const tab2 = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      yield* tab1.publish(yield* heartbeat("alice", "t1"))
      yield* tab2.publish(yield* heartbeat("alice", "t2"))
      // Someone deletes alice's comment by hand; tab2 finds out first and adds a new one.
      const d = yield* locateDiscussion(aliceClient)
      const page = yield* aliceClient.graphql(Q.PRESENCE_COMMENTS, { owner: OWNER, name: NAME, number: d.number, after: null }, Q.CommentsPage)
      yield* aliceClient.graphql(Q.DELETE_COMMENT, { id: page.repository.discussion!.comments.nodes[0]!.id }, Q.AnyData, "mutation")
      yield* tab2.publish(yield* heartbeat("alice", "t2"))
      // tab1's version (the deleted comment) is gone too: it must edit tab2's comment, not add a second one.
      yield* tab1.publish(yield* heartbeat("alice", "t1"))
      const after = yield* aliceClient.graphql(Q.PRESENCE_COMMENTS, { owner: OWNER, name: NAME, number: d.number, after: null }, Q.CommentsPage)
      expect(after.repository.discussion!.comments.nodes.filter((c) => c.author?.login === "alice").length).toBe(1)
      expect(sentMutations(s.exchanges, "SkygitAddPresence")).toBe(2)
      const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
      expect((yield* bob.read).document.entries.map((e) => e.sessionId).sort()).toEqual(["t1", "t2"])
    })
  )

  it.scopedLive("a deleted Discussion is found or created again on the next publish", () =>
    Effect.gen(function* () {
      const s = yield* servedHub()
      const aliceClient = yield* s.client("alice")
      const alice = yield* makeGitHubDiscussionPresence(aliceClient)
      const bob = yield* makeGitHubDiscussionPresence(yield* s.client("bob"))
      yield* alice.publish(yield* heartbeat("alice"))
      yield* bob.publish(yield* heartbeat("bob"))
      const d = yield* locateDiscussion(aliceClient)
      yield* aliceClient.graphql(Q.DELETE_DISCUSSION, { id: d.id }, Q.AnyData, "mutation")
      yield* bob.publish(yield* heartbeat("bob"))
      expect((yield* alice.read).document.entries.map((e) => e.username)).toEqual(["bob"])
    })
  )

  it.scopedLive("Discussions disabled, or no category: PresenceUnavailable naming the fix", () =>
    Effect.gen(function* () {
      const s = yield* servedHub({ repos: [{ name: "demo/chat", discussions: false }] })
      const off = yield* Effect.exit((yield* makeGitHubDiscussionPresence(yield* s.client("alice"))).publish(yield* heartbeat("alice")))
      expect(Exit.isFailure(off) && JSON.stringify(off)).toContain("enable them")
      const t = yield* servedHub({ repos: [{ name: "demo/chat", categories: [] }] })
      const none = yield* Effect.exit((yield* makeGitHubDiscussionPresence(yield* t.client("alice"))).read)
      expect(Exit.isFailure(none) && JSON.stringify(none)).toContain("may not start a discussion in any category")
      expect(JSON.stringify(none)).toContain("PresenceUnavailable")
    })
  )

  it.scopedLive("a category other than General is used when General is missing", () =>
    Effect.gen(function* () {
      const s = yield* servedHub({ repos: [{ name: "demo/chat", categories: ["Ideas", "Q&A"] }] })
      const alice = yield* makeGitHubDiscussionPresence(yield* s.client("alice"))
      yield* alice.publish(yield* heartbeat("alice"))
      expect((yield* alice.read).document.entries.length).toBe(1)
    })
  )
})
