/**
 * Issue 10 §4, in virtual time on the memory adapters: in file form the peer that sponsors
 * newcomers reads presence at the fast pace (its conditional reads are free when nothing
 * changed), so a newcomer joining a mesh of five is seen and connected within seconds, not at
 * the next 15 s read.
 */
import { describe, expect, it } from "vitest"
import { Clock, Duration, Effect } from "effect"
import { samePeer } from "../../src/domain/identity.js"
import { Mesh, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

/** Whether `p` has an open link to every other running peer. */
const openToAll = (mesh: Mesh, p: SimPeer) =>
  Effect.map(p.handle.view, (view) => mesh.running.every((q) => samePeer(q.id, p.id) || view.links.some((l) => samePeer(l.peer, q.id) && l.state === "open")))

/** Starts `users`, lets them mesh for `settle`, and checks that each is open to every other. */
const formedMesh = (mesh: Mesh, users: ReadonlyArray<string>, settle: Duration.DurationInput) =>
  Effect.gen(function* () {
    const members: Array<SimPeer> = []
    for (const u of users) members.push(yield* mesh.start(u))
    yield* Effect.sleep(settle)
    for (const m of members) expect(yield* openToAll(mesh, m)).toBe(true)
    return members
  })

/** How long after `start` `joiner` is open to every running peer (looked at every 100 ms), or undefined past `limitMs`. */
const meshedAfter = (mesh: Mesh, joiner: SimPeer, start: number, limitMs: number) =>
  Effect.gen(function* () {
    while ((yield* Clock.currentTimeMillis) - start < limitMs) {
      yield* Effect.sleep("100 millis")
      if (yield* openToAll(mesh, joiner)) return (yield* Clock.currentTimeMillis) - start
    }
    return undefined
  })

describe("joining an existing mesh, file form", () => {
  it("the sponsor sees a newcomer within 3 s and the newcomer is fully meshed within 10 s", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          const members = yield* formedMesh(mesh, ["m1", "m2", "m3", "m4", "m5"], "3 minutes")
          // Well past the mesh's own start, so everyone is at its steady pace.
          const start = yield* Clock.currentTimeMillis
          const joiner = yield* mesh.start("zz")
          let discoveredAt: number | undefined
          let meshedAt: number | undefined
          while (meshedAt === undefined && (yield* Clock.currentTimeMillis) - start < 60_000) {
            yield* Effect.sleep("100 millis")
            const t = yield* Clock.currentTimeMillis
            const sponsorView = yield* members[0]!.handle.view
            if (discoveredAt === undefined && sponsorView.links.some((l) => samePeer(l.peer, joiner.id))) discoveredAt = t - start
            if (yield* openToAll(mesh, joiner)) meshedAt = t - start
          }
          expect(discoveredAt).toBeDefined()
          expect(discoveredAt!).toBeLessThanOrEqual(3_000)
          expect(meshedAt).toBeDefined()
          expect(meshedAt!).toBeLessThanOrEqual(10_000)
        })
      )
    ), 120_000)

  // Issue 10 §4 (first channel open within 6 s, p99): after the sponsor sees a newcomer, its
  // offer and the answer each waited for the other side's next read, up to pollFastMs (2 s) a hop,
  // so first opens in bench:net sat at 6.0-6.1 s. Both sides now read every pollAwaitMs meanwhile.
  it("five newcomers joining one after another each open their first link within 3 s of starting", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          yield* formedMesh(mesh, ["m1", "m2", "m3", "m4", "m5"], "3 minutes")
          const firstOpens: Array<number> = []
          for (const name of ["n1", "n2", "n3", "n4", "n5"]) {
            // Joins land at different phases of the sponsor's reads.
            yield* Effect.sleep(Duration.millis(1_300 + 370 * firstOpens.length))
            const start = yield* Clock.currentTimeMillis
            const joiner = yield* mesh.start(name)
            let firstOpen: number | undefined
            while (firstOpen === undefined && (yield* Clock.currentTimeMillis) - start < 30_000) {
              yield* Effect.sleep("50 millis")
              if ((yield* joiner.handle.view).links.some((l) => l.state === "open")) firstOpen = (yield* Clock.currentTimeMillis) - start
            }
            firstOpens.push(firstOpen ?? Number.POSITIVE_INFINITY)
            expect(yield* meshedAfter(mesh, joiner, start, 60_000)).toBeDefined()
          }
          // The sponsor's read (every 2 s) and two hops at 0.5 s: 2,700 ms at most here, 4,000 before.
          expect(Math.max(...firstOpens)).toBeLessThanOrEqual(3_000)
        })
      )
    ), 120_000)

  // Regression: a joiner whose name is smaller than every member's sponsors the others (it offers
  // to all of them through presence), but only the mesh's smallest member answers presence offers
  // and only two unanswered ones may be in flight. Offered in link order, two other members held
  // both slots and the joiner took minutes (sim, 10 peers, file seed 1: full mesh p50 233 s).
  it("a joiner named smaller than every member reaches the mesh through the member that answers, within 10 s", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          // The member that answers (m1, the smallest) is not the first in the presence document.
          yield* formedMesh(mesh, ["m4", "m5", "m3", "m2", "m1"], "3 minutes")
          const start = yield* Clock.currentTimeMillis
          const joiner = yield* mesh.start("a0")
          const meshedAt = yield* meshedAfter(mesh, joiner, start, 120_000)
          expect(meshedAt).toBeDefined()
          expect(meshedAt!).toBeLessThanOrEqual(10_000)
        })
      )
    ), 120_000)

  // Regression (50-peer simulation: full mesh p50 148 s against 31 s before): a joiner named above
  // every member is offered to by all of them at once, each offer relayed by its first neighbor.
  // It refused all but 10 relayed offers a minute per neighbor, and any offer past 16 attempts in
  // flight, so each refused member waited out its retry backoff. Offers from sessions this peer
  // sees in presence are not rate-limited now, and those past the bound wait for a free attempt.
  it("a joiner offered to by 24 members at once is fully meshed within 20 s, refusing none", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          yield* formedMesh(mesh, Array.from({ length: 24 }, (_, i) => `m${String(i).padStart(2, "0")}`), "5 minutes")
          const start = yield* Clock.currentTimeMillis
          const joiner = yield* mesh.start("zz")
          const meshedAt = yield* meshedAfter(mesh, joiner, start, 180_000)
          expect((yield* joiner.handle.view).refused).toEqual({})
          expect(meshedAt).toBeDefined()
          expect(meshedAt!).toBeLessThanOrEqual(20_000)
        })
      )
    ), 120_000)
})
