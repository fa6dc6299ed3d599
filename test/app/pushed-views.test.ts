/**
 * The peer pushes its view and each conversation's new messages (`views`, `timeline`):
 * the UI subscribes and never polls or re-reads a whole history. Memory adapters, virtual time.
 */
import { Effect, Fiber, Stream, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import { VIEW_REFRESH_SPACING_MS } from "../../src/app/peer.js"
import type { PeerView } from "../../src/app/peer-state.js"
import { makePeerId } from "../../src/domain/identity.js"
import { ConversationId } from "../../src/domain/message.js"
import type { TimelineDelta } from "../../src/domain/timeline.js"
import { Mesh } from "../../src/sim/harness.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")
const other = ConversationId.make("other")
const seconds = (n: number) => Effect.sleep(`${n} seconds`)
const scenario = <A>(body: (mesh: Mesh) => Effect.Effect<A, unknown, Scope.Scope>) =>
  runVirtualOrThrow(Effect.scoped(Effect.flatMap(Mesh.make({ presence: "file" }), body)))


const openTo = (v: PeerView, user: string) => v.links.some((l) => l.peer.username === user && l.state === "open")

describe("pushed views", () => {
  it("the view comes at once, then every change, and never the same view twice in a row", () =>
    scenario((mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const views: Array<PeerView> = []
        yield* Effect.forkScoped(Stream.runForEach(alice.handle.views, (v) => Effect.sync(() => views.push(v))))
        yield* seconds(0)
        expect(views.length).toBe(1)
        expect(views[0]!.links).toEqual([])
        yield* mesh.start("bob")
        yield* seconds(120)
        expect(openTo(views.at(-1)!, "bob")).toBe(true)
        expect(views.some((v) => v.links.some((l) => l.peer.username === "bob" && l.state !== "open"))).toBe(true)
        for (let i = 1; i < views.length; i++) expect(JSON.stringify(views[i])).not.toBe(JSON.stringify(views[i - 1]))
        // A second subscriber gets the current view first.
        const late = yield* Stream.runHead(alice.handle.views)
        expect(late._tag === "Some" && openTo(late.value, "bob")).toBe(true)
      })
    ))

  it("a burst of changes is one view per spacing, and the last one shows all of them", () =>
    scenario((mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        yield* seconds(120)
        expect(openTo(yield* alice.handle.view, "bob")).toBe(true)
        const views: Array<PeerView> = []
        yield* Effect.forkScoped(Stream.runForEach(alice.handle.views, (v) => Effect.sync(() => views.push(v))))
        yield* seconds(1)
        const before = views.length
        const refusedBefore = views.at(-1)!.refused["other"] ?? 0
        // Forty refusals, 5 ms apart: each changes the view (its refusal count).
        const nobody = makePeerId("nobody", "gone")
        const burst = 40
        for (let i = 0; i < burst; i++) {
          const frame = { v: 1, id: `x${i}`, type: "signal", from: bob.id, to: null, timestamp: 1, payload: { _tag: "description", origin: bob.id, target: nobody, attempt: `x${i}.1`, description: { type: "offer", sdp: "v=0" } } }
          yield* mesh.network.injectRaw(bob.id, alice.id, JSON.stringify(frame))
          yield* Effect.sleep(5)
        }
        yield* seconds(1)
        const shown = views.length - before
        // 200 ms of changes: one view at the first, then at most one per spacing (and one at the end).
        expect(shown).toBeGreaterThanOrEqual(2)
        expect(shown).toBeLessThanOrEqual(Math.ceil((burst * 5) / VIEW_REFRESH_SPACING_MS) + 2)
        expect(views.at(-1)!.refused["other"]).toBe(refusedBefore + burst)
      })
    ))

  it("a conversation comes as what the device holds, then each new message of it as a delta", () =>
    scenario((mesh) =>
      Effect.gen(function* () {
        const alice = yield* mesh.start("alice")
        const bob = yield* mesh.start("bob")
        yield* seconds(120)
        yield* alice.handle.send(general, "before")
        const deltas: Array<TimelineDelta> = []
        const fiber = yield* Effect.forkScoped(Stream.runForEach(alice.handle.timeline(general, 10), (d) => Effect.sync(() => deltas.push(d))))
        yield* seconds(0)
        yield* bob.handle.send(general, "from bob")
        yield* bob.handle.send(other, "elsewhere")
        yield* alice.handle.send(general, "mine")
        yield* seconds(10)
        const shown = deltas.map((d) => (d._tag === "Held" ? `held:${d.messages.map((m) => m.text).join(",")}` : `added:${d.message.text}`))
        // Held first; then the two new ones of general (in arrival order), not the other conversation's.
        expect(shown[0]).toBe("held:before")
        expect(shown.slice(1).sort()).toEqual(["added:from bob", "added:mine"])
        yield* Fiber.interrupt(fiber)
      })
    ))
})
