/**
 * The adapters' waits (write spacing, retry Schedules) run on Effect's clock, so the
 * simulator drives them with TestClock: nothing waits in real time, nothing is skipped.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { gitHubBackend } from "../../src/main/sim.js"
import { githubLimits } from "../../src/domain/budget.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { createHub } from "../../src/hub/index.js"
import { entry, peer, signal } from "../support/fixtures.js"
import { driveUntilDone, REPO, USERS } from "./hub-fixture.js"


it.effect("GitHub's 1 s write spacing and the CAS retries advance under TestClock", () =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const bob = yield* gitHubBackend(hub, "bob", { repository: REPO, limits: githubLimits })
    hub.faults.inject({ method: "PUT", path: /\/contents\//, times: 2, respond: { status: 409 } })
    const work = Effect.gen(function* () {
      for (let i = 0; i < 3; i++) {
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        yield* alice.presence("file").publish({ ...noChange, upsert: [entry(peer("alice", `s${i}`), now)] })
      }
      return yield* bob.presence("file").read
    })
    const seen = yield* driveUntilDone(yield* Effect.fork(work))
    expect(seen.document.entries.map((e) => e.sessionId).sort()).toEqual(["s0", "s1", "s2"])
    // Three writes 1 s apart at least: the test clock, not the wall clock, moved.
    expect(clock.unsafeCurrentTimeMillis()).toBeGreaterThanOrEqual(2 * githubLimits.minWriteSpacingMs)
  })
)

/** Every content-creating request the hub answered, as "METHOD path status". */
const writesOf = (hub: Awaited<ReturnType<typeof createHub>>) => {
  const seen: Array<string> = []
  hub.onExchange((e) => {
    // GraphQL queries are reads (the file form's look for a lobby Discussion); these tests make no mutation.
    if (new URL(e.url).pathname === "/graphql") return
    const what = e.url.includes("/git/refs") ? "git/refs" : e.url.includes("/git/trees") ? "git/trees" : e.url.includes("/git/commits") ? "git/commits" : "contents"
    if (e.method === "PUT" || e.method === "POST" || e.method === "PATCH") seen.push(`${e.method} ${what} ${e.status}`)
  })
  return seen
}

it.effect("a writer reads the version it overwrites after waiting for its write slot, so a write made meanwhile costs no 409", () =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const bob = yield* gitHubBackend(hub, "bob", { repository: REPO, limits: githubLimits })
    const at = () => clock.unsafeCurrentTimeMillis()
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish({ ...noChange, upsert: [entry(peer("alice", "s1"), at())] })))
    const writes = writesOf(hub)
    // Alice's next write waits a second for its slot; Bob writes in that second.
    const second = yield* Effect.fork(alice.presence("file").publish({ ...noChange, upsert: [entry(peer("alice", "s2"), at())] }))
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
    yield* driveUntilDone(yield* Effect.fork(bob.presence("file").publish({ ...noChange, upsert: [entry(peer("bob", "s1"), at())] })))
    yield* driveUntilDone(second)
    expect(writes).toEqual(["PUT contents 200", "PUT contents 200"])
    const seen = yield* bob.presence("file").read
    expect(seen.document.entries.map((e) => `${e.username}/${e.sessionId}`).sort()).toEqual(["alice/s1", "alice/s2", "bob/s1"])
  })
)

it.effect("the first write creates SkyGit's branch before writing (no PUT refused 404); a later writer creates nothing", () =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const bob = yield* gitHubBackend(hub, "bob", { repository: REPO, limits: githubLimits })
    const writes = writesOf(hub)
    const at = () => clock.unsafeCurrentTimeMillis()
    // Bob read the channel while it did not exist yet.
    yield* driveUntilDone(yield* Effect.fork(bob.presence("file").read))
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish({ ...noChange, upsert: [entry(peer("alice"), at())] })))
    yield* driveUntilDone(yield* Effect.fork(bob.presence("file").publish({ ...noChange, upsert: [entry(peer("bob"), at())] })))
    // The branch starts as an orphan: its first tree and commit, then the ref.
    expect(writes).toEqual(["POST git/trees 201", "POST git/commits 201", "POST git/refs 201", "PUT contents 201", "PUT contents 200"])
  })
)

it.effect("a change the latest document already holds is not written again", () =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const change = { ...noChange, upsert: [entry(peer("alice"), clock.unsafeCurrentTimeMillis())], signals: [signal(peer("alice"), peer("bob"), clock.unsafeCurrentTimeMillis())] }
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish(change)))
    const writes = writesOf(hub)
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish(change)))
    expect(writes).toEqual([])
  })
)

it.effect("what a write read just before writing is still news to the next poll, though that poll is answered 304", () =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], now: () => clock.unsafeCurrentTimeMillis() }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: githubLimits })
    const bob = yield* gitHubBackend(hub, "bob", { repository: REPO, limits: githubLimits })
    const change = { ...noChange, signals: [signal(peer("alice"), peer("bob"), clock.unsafeCurrentTimeMillis())] }
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish(change)))
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").read))
    yield* driveUntilDone(yield* Effect.fork(bob.presence("file").publish({ ...noChange, upsert: [entry(peer("bob"), clock.unsafeCurrentTimeMillis())] })))
    // Alice's write finds its slot already there and writes nothing, but it read Bob's entry.
    yield* driveUntilDone(yield* Effect.fork(alice.presence("file").publish(change)))
    const seen = yield* driveUntilDone(yield* Effect.fork(alice.presence("file").read))
    expect(seen.changed).toBe(true)
    expect(seen.document.entries.map((e) => e.username)).toEqual(["bob"])
    expect((yield* driveUntilDone(yield* Effect.fork(alice.presence("file").read))).changed).toBe(false)
  })
)
