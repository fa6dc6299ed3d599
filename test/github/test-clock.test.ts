/**
 * The adapters' waits (write spacing, retry Schedules) run on Effect's clock, so the
 * simulator drives them with TestClock: nothing waits in real time, nothing is skipped.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { gitHubBackend } from "../../src/adapters/github/backend.js"
import { githubLimits } from "../../src/domain/budget.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { createHub } from "../../src/hub/index.js"
import { entry, peer } from "../support/fixtures.js"
import { REPO, USERS } from "./hub-fixture.js"

/** Lets real I/O settle, then moves the test clock, until `fiber` is done. */
const driveUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      if ((yield* Fiber.poll(fiber))._tag === "Some") break
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 2)))
      yield* TestClock.adjust("250 millis")
    }
    return yield* Fiber.join(fiber)
  })

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
