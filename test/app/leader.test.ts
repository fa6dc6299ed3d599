/**
 * The leadership interpreter on a whole peer (memory adapters, virtual time): what the
 * pure step decides reaches the ports, and a caller never waits on an actor that stopped.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ConversationId } from "../../src/domain/message.js"
import { Mesh, type MeshOptions } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")
const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) => runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

describe("leadership interpreter", () => {
  it("a leader commits a message it was sent within the commit delay, learning of it by event", () =>
    scenario({ presence: "file" }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* Effect.sleep("1 minute")
        expect(alice!.handle.state.leadership.isLeader).toBe(true)
        yield* bob!.handle.send(general, "to be saved")
        yield* Effect.sleep("1 minute")
        // Told at once, not found by a scan: the bound is the message's time.
        expect(alice!.handle.state.leadership.oldestPending).toBeLessThanOrEqual(Date.UTC(2026, 0, 1) + 2 * 60_000)
        expect(mesh.world.commits.some((c) => c.files.some((f) => f.content.includes("to be saved")))).toBe(false)
        yield* Effect.sleep("8 minutes")
        expect(mesh.world.commits.some((c) => c.files.some((f) => f.content.includes("to be saved")))).toBe(true)
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
        expect(mesh.world.commits.some((c) => c.files.some((f) => f.content.includes("written before anyone was seen")))).toBe(false)
        // Once presence answers, the mesh forms, alice leads it and her message is saved.
        yield* Effect.sleep("2 minutes")
        expect(alice.handle.state.presenceRead).toBe(true)
        expect(alice.handle.state.leadership.isLeader).toBe(true)
        expect(bob!.handle.state.leadership.isLeader).toBe(false)
        yield* Effect.sleep("10 minutes")
        expect(mesh.world.commits.some((c) => c.files.some((f) => f.content.includes("written before anyone was seen")))).toBe(true)
      })
    ))
})
