/**
 * GitHub asks for one second between mutative requests of one user, of every kind (issue 9):
 * the client spaces blobs, trees, commits, refs, contents PUTs and GraphQL mutations alike, on
 * Effect's Clock. The hub runs on the test clock, so the gaps measured are virtual time.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { effectiveKind } from "../../src/adapters/github/client.js"
import { githubLimits } from "../../src/domain/budget.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { createHub } from "../../src/hub/index.js"
import { gitHubBackend } from "../../src/main/sim.js"
import { entry, message, peer } from "../support/fixtures.js"
import { driveUntilDone, REPO, USERS } from "./hub-fixture.js"


/** A hub on the test clock recording, for every mutative request it answers, when (test clock) and what. */
const recordingHub = Effect.gen(function* () {
  const clock = yield* Effect.clock
  const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
  const mutations: Array<{ readonly at: number; readonly what: string }> = []
  hub.onExchange((e) => {
    if (e.method === "GET" || e.method === "HEAD" || e.method === "OPTIONS") return
    const body = e.requestBody as { query?: unknown } | undefined
    const graphql = e.url.endsWith("/graphql")
    if (graphql && !(typeof body?.query === "string" && /^\s*mutation/.test(body.query))) return
    const path = new URL(e.url).pathname
    const resource = ["git/blobs", "git/trees", "git/commits", "git/refs", "contents"].find((r) => path.includes(`/${r}`)) ?? path
    const what = graphql ? `graphql ${/mutation (\w+)/.exec(String(body?.query))?.[1] ?? "?"}` : `${e.method} /${resource}`
    mutations.push({ at: clock.unsafeCurrentTimeMillis(), what })
  })
  return { hub, mutations }
})

const gaps = (times: ReadonlyArray<{ readonly at: number }>): ReadonlyArray<number> => times.slice(1).map((t, i) => t.at - times[i]!.at)

it.effect("a commit's tree, commit and ref requests, and the presence write after it, are each at least 1 s after the previous one", () =>
  Effect.gen(function* () {
    const { hub, mutations } = yield* recordingHub
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const work = Effect.gen(function* () {
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      // The first commit creates the skygit branch (orphan tree, commit, ref); the second updates it.
      yield* alice.repo.commit({ expectedHead: yield* alice.repo.head, messages: [message("m1", now)], at: now })
      yield* alice.repo.commit({ expectedHead: yield* alice.repo.head, messages: [message("m2", now + 1)], at: now + 1 })
      // A contents PUT right after: spaced from the ref update too, though it is another kind.
      yield* alice.presence("file").publish({ ...noChange, upsert: [entry(peer("alice", "s1"), now)] })
    })
    yield* driveUntilDone(yield* Effect.fork(work), 100, 2_000)
    const kinds = new Set(mutations.map((m) => m.what))
    for (const k of ["POST /git/trees", "POST /git/commits", "POST /git/refs", "PATCH /git/refs", "PUT /contents"]) expect(kinds, k).toContain(k)
    expect(mutations.length).toBeGreaterThanOrEqual(7)
    for (const [i, gap] of gaps(mutations).entries()) expect(gap, `${mutations[i]!.what} -> ${mutations[i + 1]!.what}`).toBeGreaterThanOrEqual(githubLimits.minWriteSpacingMs)
  })
)

it.effect("GraphQL mutations (create the Discussion, add and edit a comment) are spaced a second apart too", () =>
  Effect.gen(function* () {
    const { hub, mutations } = yield* recordingHub
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const work = Effect.gen(function* () {
      const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const presence = alice.presence("discussion")
      yield* presence.publish({ ...noChange, upsert: [entry(peer("alice", "s1"), now)] })
      yield* presence.publish({ ...noChange, upsert: [entry(peer("alice", "s2"), now)] })
    })
    yield* driveUntilDone(yield* Effect.fork(work), 100, 2_000)
    expect(mutations.map((m) => m.what)).toEqual(["graphql SkygitCreatePresence", "graphql SkygitAddPresence", "graphql SkygitUpdatePresence"])
    for (const gap of gaps(mutations)) expect(gap).toBeGreaterThanOrEqual(githubLimits.minWriteSpacingMs)
  })
)

it("a write is never taken for a read: REST routes other than GET/HEAD and GraphQL mutation documents are spaced", () => {
  expect(effectiveKind("GET /repos/{owner}/{repo}", "read")).toBe("read")
  expect(effectiveKind("POST /repos/{owner}/{repo}/git/blobs", "read")).toBe("mutation")
  expect(effectiveKind("DELETE /repos/{owner}/{repo}/contents/{path}", "read")).toBe("mutation")
  expect(effectiveKind("POST /graphql", "read", "query Q { viewer { login } }")).toBe("read")
  expect(effectiveKind("POST /graphql", "read", "  mutation M { x }")).toBe("mutation")
  expect(effectiveKind("PUT /repos/{owner}/{repo}/contents/{path}", "content")).toBe("content")
})
