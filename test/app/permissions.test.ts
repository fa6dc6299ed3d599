/**
 * Leadership by push permission (issue 9), on the memory adapters in virtual time: only
 * sessions that can push lead, a leader refused for permission steps down and says why,
 * read-only users' messages are committed by a pusher, and when nobody online can push
 * everyone is told history is not being saved.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { NOBODY_CAN_PUSH } from "../../src/app/mesh.js"
import { parseFile } from "../../src/domain/commit-layout.js"
import { ConversationId } from "../../src/domain/message.js"
import { Mesh, type MeshOptions } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")
const minutes = (n: number) => Effect.sleep(`${n} minutes`)
const scenario = <A>(options: MeshOptions, body: (mesh: Mesh) => Effect.Effect<A>) => runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make(options), body)))

const committedTexts = (mesh: Mesh): Array<string> =>
  mesh.world.commits.flatMap((c) => c.files.flatMap((f) => parseFile(f.path, f.content).messages.map((m) => m.text)))
const committers = (mesh: Mesh): Set<string> => new Set(mesh.world.commits.filter((c) => c.files.some((f) => parseFile(f.path, f.content).messages.length > 0)).map((c) => c.author))

describe("leadership by push permission", () => {
  it("a read-only user with the smallest login never leads; a pusher commits the read-only user's messages", () =>
    scenario({ presence: "discussion", github: { readOnly: ["alice"] } }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob, carol] = yield* Effect.forEach(["alice", "bob", "carol"], (u) => mesh.start(u))
        yield* minutes(2)
        expect([alice!.handle.state.leadership.isLeader, bob!.handle.state.leadership.isLeader, carol!.handle.state.leadership.isLeader]).toEqual([false, true, false])
        expect(alice!.handle.state.leadership.leader?.username).toBe("bob")
        yield* alice!.handle.send(general, "from a reader")
        yield* carol!.handle.send(general, "from carol")
        yield* minutes(10)
        expect(committedTexts(mesh).sort()).toEqual(["from a reader", "from carol"])
        expect(committers(mesh)).toEqual(new Set(["bob"]))
        expect((yield* alice!.handle.view).historyNotice).toBeUndefined()
      })
    ))

  it("a leader that learns only from a refusal that it cannot push steps down, says why, and another leads", () =>
    scenario({ presence: "discussion", github: { readOnly: ["alice"], permissionsKnown: false } }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* minutes(2)
        expect(alice!.handle.state.leadership.isLeader).toBe(true)
        yield* bob!.handle.send(general, "saved by bob in the end")
        yield* minutes(10)
        expect(alice!.handle.state.leadership.isLeader).toBe(false)
        expect(alice!.handle.state.leadership.canPush).toBe(false)
        expect(alice!.handle.state.rejections.some((r) => r.reason.startsWith("Stepping down as leader") && r.reason.includes("cannot push"))).toBe(true)
        yield* minutes(3)
        expect(bob!.handle.state.leadership.isLeader).toBe(true)
        expect(committedTexts(mesh)).toEqual(["saved by bob in the end"])
        // One refused attempt, said once, not a storm.
        expect(alice!.handle.state.rejections.filter((r) => r.reason.startsWith("Stepping down")).length).toBe(1)
      })
    ))

  it("when nobody online can push, everyone is told history is not being saved, and no one tries", () =>
    scenario({ presence: "discussion", github: { readOnly: ["alice", "bob"] } }, (mesh) =>
      Effect.gen(function* () {
        const [alice, bob] = yield* Effect.forEach(["alice", "bob"], (u) => mesh.start(u))
        yield* alice!.handle.send(general, "kept on devices")
        yield* minutes(5)
        for (const p of [alice!, bob!]) {
          expect(p.handle.state.leadership.isLeader).toBe(false)
          expect((yield* p.handle.view).historyNotice).toBe(NOBODY_CAN_PUSH)
        }
        expect(mesh.world.commits.length).toBe(0)
      })
    ))
})
