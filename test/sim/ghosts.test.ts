/**
 * Ghost sessions (issue 8): tabs that went away without a goodbye leave entries that
 * linger until they expire. They are shown "away", folded under their user, are never
 * signaled until refreshed, and cost the mesh no GitHub writes.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { applyChange, emptyDocument, encodeDocument, noChange, type PresenceEntry } from "../../src/domain/presence-doc.js"
import { makePeerId, peerKey } from "../../src/domain/identity.js"
import { Mesh } from "../../src/sim/harness.js"
import { simulate } from "../../src/sim/simulate.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const MINUTE = 60_000

describe("ghost sessions", () => {
  it.each(["file", "discussion"] as const)("are away, folded under their user, and never offered to until refreshed (%s)", (presence) =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const mesh = yield* Mesh.make({ presence })
          const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
          // Bob's earlier tab, gone 6 minutes ago without a goodbye (past a refresh period, within the expiry).
          const ghost: PresenceEntry = { username: "bob" as PresenceEntry["username"], sessionId: "old-tab" as PresenceEntry["sessionId"], lastSeen: t0 - 6 * MINUTE, fingerprint: "sim-bob/old-tab" }
          const text = encodeDocument(applyChange(emptyDocument, { ...noChange, upsert: [ghost] }, t0))
          if (presence === "file") mesh.world.writePresenceFile(text)
          else mesh.world.putComment("bob", text)
          const alice = yield* mesh.start("alice")
          const bob = yield* mesh.start("bob")
          const ghostKey = peerKey(makePeerId("bob", "old-tab"))
          const statesSeen = new Set<string>()
          for (let s = 0; s < 180; s++) {
            yield* Effect.sleep("1 second")
            for (const p of [alice, bob]) {
              const link = p.handle.state.links.get(ghostKey)
              if (link !== undefined) statesSeen.add(link.state)
            }
          }
          // Never signaled: no offer, no connection attempt to the ghost.
          expect([...statesSeen].filter((st) => st !== "discovered")).toEqual([])
          const view = yield* alice.handle.view
          const bobPerson = view.people.find((p) => p.username === "bob")!
          expect(bobPerson.sessions.map((s) => `${s.peer.sessionId}:${s.state}`)).toEqual([`${bob.id.sessionId}:open`, "old-tab:away"])
        })
      )
    )
  )

  it.each(["file", "discussion"] as const)("five stale sessions in presence cost the mesh no more GitHub writes than none (%s)", (presence) => {
    const run = (stale: number) => runVirtualOrThrow(simulate({ peers: 6, minutes: 20, presence, seed: 1, history: 0, faults: [], stale }))
    const [none, five] = [run(0), run(5)]
    expect(five.messagesLost + five.messagesUnseen).toBe(0)
    expect(five.github.writes).toBeLessThanOrEqual(none.github.writes)
  })
})
