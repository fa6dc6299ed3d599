/** The simulator backend: the real adapters against an in-process hub, through its `handle`. */
import { expect, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { gitHubBackend } from "../../src/main/sim.js"
import { noChange } from "../../src/domain/presence-doc.js"
import { createHub } from "../../src/hub/index.js"
import { entry, message, peer } from "../support/fixtures.js"
import { FAST_LIMITS, REPO, USERS } from "./hub-fixture.js"

it.live("file and Discussion presence and the repository work in-process, counted by the hub", () =>
  Effect.gen(function* () {
    const hub = yield* Effect.promise(() => createHub({ users: [...USERS], repos: [REPO], limits: FAST_LIMITS }))
    const alice = yield* gitHubBackend(hub, "alice", { repository: REPO, limits: FAST_LIMITS })
    const bob = yield* gitHubBackend(hub, "bob", { repository: REPO, limits: FAST_LIMITS })
    const now = yield* Clock.currentTimeMillis
    for (const form of ["file", "discussion"] as const) {
      yield* alice.presence(form).publish({ ...noChange, upsert: [entry(peer("alice"), now)] })
      expect((yield* bob.presence(form).read).document.entries.map((e) => e.username)).toEqual(["alice"])
    }
    const landed = yield* alice.repo.commit({ expectedHead: yield* alice.repo.head, messages: [message("m", now)], at: now })
    expect(Option.getOrNull(yield* bob.repo.head)).toBe(landed.head)
    expect(hub.stats().users["alice"]!.requests).toBeGreaterThan(0)
  })
)
