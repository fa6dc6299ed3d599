/**
 * The leadership interpreter on a whole peer (memory adapters, virtual time): what the
 * pure step decides reaches the ports, and a caller never waits on an actor that stopped.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { peerKey } from "../../src/domain/identity.js"
import { ConversationId } from "../../src/domain/message.js"
import { applyChange, emptyDocument, encodeDocument, noChange, type PresenceEntry } from "../../src/domain/presence-doc.js"
import { Mesh, type MeshOptions } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")
const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) => runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

/** Whether some commit of the branch holds `text`. */
const committed = (mesh: Mesh, text: string): boolean => mesh.world.commits.some((c) => c.files.some((f) => f.content.includes(text)))

/** Alice and bob a minute after they start together: alice (the smaller) leads. */
const aliceLeadsBob = (mesh: Mesh) =>
  Effect.gen(function* () {
    const alice = yield* mesh.start("alice")
    const bob = yield* mesh.start("bob")
    yield* Effect.sleep("1 minute")
    expect(alice.handle.state.leadership.isLeader).toBe(true)
    return { alice, bob }
  })

describe("leadership interpreter", () => {
  it("a leader commits a message it was sent within the commit delay, learning of it by event", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob } = yield* aliceLeadsBob(mesh)
        yield* bob.handle.send(general, "to be saved")
        yield* Effect.sleep("1 minute")
        // Told at once, not found by a scan: the bound is the message's time.
        expect(alice.handle.state.leadership.oldestPending).toBeLessThanOrEqual(Date.UTC(2026, 0, 1) + 2 * 60_000)
        expect(committed(mesh, "to be saved")).toBe(false)
        yield* Effect.sleep("8 minutes")
        expect(committed(mesh, "to be saved")).toBe(true)
      })
    ))

  it("save now on a peer that has closed answers at once that no leader can save, instead of waiting on its stopped actor", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        yield* Effect.sleep("10 seconds")
        yield* mesh.stop(alice)
        expect(yield* alice.handle.saveNow).toEqual({ _tag: "no-leader" })
      })
    ))

  it("a session that cannot read presence yet does not lead on its own: nobody seen is not nobody online", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [bob] = yield* Effect.forEach(["bob", "carol"], (u) => mesh.start(u))
        yield* Effect.sleep("1 minute")
        expect(bob!.handle.state.leadership.isLeader).toBe(true)
        // GitHub answers nothing for 40 s: the newcomer (smallest name, so the leader-to-be) sees nobody.
        const start = yield* Effect.clockWith((c) => c.currentTimeMillis)
        mesh.world.faults.unavailableUntil = start + 40_000
        const alice = yield* mesh.start("alice")
        yield* alice.handle.send(general, "written before anyone was seen")
        let ledEarly = false
        for (let i = 0; i < 38; i++) {
          yield* Effect.sleep("1 second")
          ledEarly ||= alice.handle.state.leadership.isLeader
        }
        expect(alice.handle.state.presenceRead).toBe(false)
        expect(ledEarly).toBe(false)
        expect(committed(mesh, "written before anyone was seen")).toBe(false)
        // Once presence answers, the mesh forms, alice leads it and her message is saved.
        yield* Effect.sleep("2 minutes")
        expect(alice.handle.state.presenceRead).toBe(true)
        expect(alice.handle.state.leadership.isLeader).toBe(true)
        expect(bob!.handle.state.leadership.isLeader).toBe(false)
        yield* Effect.sleep("10 minutes")
        expect(committed(mesh, "written before anyone was seen")).toBe(true)
      })
    ))

  it.each(["file", "discussion"] as const)(
    "a smaller newcomer takes over from the acting leader without leaving the mesh leaderless while a crashed tab's entry lingers (%s)",
    (presence) =>
      scenario({ presence }, (mesh) =>
        Effect.gen(function* () {
          // Carol's tab crashed 20 s ago: her entry looks alive, and nobody can tell it from a live session but by its silence.
          const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const ghost: PresenceEntry = { username: "carol" as PresenceEntry["username"], sessionId: "crashed" as PresenceEntry["sessionId"], lastSeen: t0 - 20_000, fingerprint: "sim-carol/crashed" }
          const text = encodeDocument(applyChange(emptyDocument, { ...noChange, upsert: [ghost] }, t0))
          if (presence === "file") mesh.world.writePresenceFile(text)
          else mesh.world.putComment("carol", text)
          const bob = yield* mesh.start("bob")
          yield* Effect.sleep("3 minutes")
          expect(bob.handle.state.leadership.isLeader).toBe(true)
          // Alice (the smaller name) joins: she connects within seconds, while carol's entry still waits out its grace.
          const alice = yield* mesh.start("alice")
          let leaderless = 0
          for (let i = 0; i < 150; i++) {
            yield* Effect.sleep("1 second")
            if (!alice.handle.state.leadership.isLeader && !bob.handle.state.leadership.isLeader) leaderless += 1
          }
          expect(alice.handle.state.links.get(peerKey(bob.id))?.state).toBe("open")
          expect(alice.handle.state.leadership.isLeader).toBe(true)
          expect(bob.handle.state.leadership.isLeader).toBe(false)
          // Until alice's first read and connection bob leads; then alice after her settle time.
          expect(leaderless).toBe(0)
        })
      )
  )

  it("what a neighbor's heartbeats said about leading is heard, and forgotten with its connection", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const { alice, bob } = yield* aliceLeadsBob(mesh)
        expect(bob.handle.state.leading.has(peerKey(alice.id))).toBe(true)
        expect(alice.handle.state.leading.has(peerKey(bob.id))).toBe(false)
        yield* mesh.crash(alice)
        yield* Effect.sleep("30 seconds")
        expect(bob.handle.state.links.get(peerKey(alice.id))?.state).not.toBe("open")
        expect(bob.handle.state.leading.size).toBe(0)
      })
    ))
})
