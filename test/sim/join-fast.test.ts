/**
 * Issue 10 §4, in virtual time on the memory adapters: in file form the peer that sponsors
 * newcomers reads presence at the fast pace (its conditional reads are free when nothing
 * changed), so a newcomer joining a mesh of five is seen and connected within seconds, not at
 * the next 15 s read.
 */
import { describe, expect, it } from "vitest"
import { Clock, Effect } from "effect"
import { samePeer } from "../../src/domain/identity.js"
import { Mesh, type SimPeer } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

/** Whether `p` has an open link to every other running peer. */
const openToAll = (mesh: Mesh, p: SimPeer) =>
  Effect.map(p.handle.view, (view) => mesh.running.every((q) => samePeer(q.id, p.id) || view.links.some((l) => samePeer(l.peer, q.id) && l.state === "open")))

describe("joining an existing mesh, file form", () => {
  it("the sponsor sees a newcomer within 3 s and the newcomer is fully meshed within 10 s", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence: "file" })
          const members: Array<SimPeer> = []
          for (const u of ["m1", "m2", "m3", "m4", "m5"]) members.push(yield* mesh.start(u))
          yield* Effect.sleep("3 minutes")
          for (const m of members) expect(yield* openToAll(mesh, m)).toBe(true)
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
})
