/**
 * Call control through the presence channel, on whole peers (startPeer on the
 * memory GitHub and the simulated network) in virtual time: two peers that cannot
 * open a data channel between them (a network partition) still ring, answer,
 * decline and hang up through presence call slots; media starts once the
 * connection opens; and hostile or stale slots change nothing.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { makeFakeMediaWorld } from "../../src/adapters/media/fake.js"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { decodeDocument, encodeDocument, MAX_CALL_SLOT_CHARS } from "../../src/domain/presence-doc.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"
import { member, until, type Member } from "./whole-peers.js"

type Form = "file" | "discussion"

/** Whether `m` has an open data channel to `other`. */
const channelOpen = (m: Member, other: Member) =>
  Effect.map(m.handle.view, (v) => v.links.some((l) => l.peer.username === other.id.username && l.state === "open"))

/**
 * Two peers on one presence channel whose data channel can never open: the network
 * puts them on different sides, and media (which needs the connection) follows it.
 */
const partitioned = (form: Form = "file") =>
  Effect.gen(function* () {
    const world = new MemoryGitHub()
    const network = yield* MemoryNetwork.make()
    const media = makeFakeMediaWorld()
    media.connected = (a, b) => network.reachable(a, b)
    yield* network.partition((p) => (p.username === "alice" ? 0 : 1))
    const alice = yield* member(world, network, media, "alice", { form })
    const bob = yield* member(world, network, media, "bob", { form })
    // Both are in the presence channel before anyone calls.
    yield* Effect.sleep("20 seconds")
    return { world, network, media, alice, bob }
  })

describe("calls through the presence channel", () => {
  it("with no data channel, a call rings, is answered and hung up through presence call slots", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const { world, media, alice, bob } = yield* partitioned()
          expect((yield* alice.handle.view).online.map((p) => p.username)).toEqual(["bob"])
          const writesBefore = world.statsOf("alice").writes

          const id = yield* alice.calls.dial([bob.id], "audio")
          yield* until(bob, (v) => v.call?.phase === "ringing")
          expect((yield* bob.calls.view).call?.id).toBe(id)
          expect(yield* channelOpen(alice, bob)).toBe(false)
          // The invite cost alice about one write: slots are coalesced with her other presence writes.
          expect(world.statsOf("alice").writes - writesBefore).toBeLessThanOrEqual(2)

          yield* bob.calls.accept
          yield* until(alice, (v) => v.call?.phase === "accepted")
          yield* until(bob, (v) => v.call?.phase === "accepted")
          expect(yield* channelOpen(bob, alice)).toBe(false)
          // Answered, but no connection carries media yet.
          expect((yield* alice.calls.view).remote).toEqual([])
          expect(media.sending(alice.id, bob.id)).toEqual([])

          yield* alice.calls.hangUp
          yield* until(bob, (v) => v.call?.phase === "ended" && v.local.length === 0)
          expect(media.live(alice.id)).toEqual([])
          expect(media.live(bob.id)).toEqual([])
          expect(yield* channelOpen(alice, bob)).toBe(false)

          // The slots stay in the channel until their retention; later reads apply nothing again.
          yield* Effect.sleep("60 seconds")
          const after = yield* bob.calls.view
          expect(after.call?.id).toBe(id)
          expect(after.call?.phase).toBe("ended")
        })
      )
    ))

  it("in Discussion form, a call through presence is declined and the caller hears it", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const { alice, bob } = yield* partitioned("discussion")
          yield* alice.calls.dial([bob.id], "video")
          yield* until(bob, (v) => v.call?.phase === "ringing", 180)
          yield* bob.calls.reject
          yield* until(alice, (v) => v.call?.phase === "rejected", 180)
          expect(yield* channelOpen(alice, bob)).toBe(false)
        })
      )
    ))

  it("a call answered through presence starts its media once the network lets the connection open", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const { network, media, alice, bob } = yield* partitioned()
          yield* alice.calls.dial([bob.id], "video")
          yield* until(bob, (v) => v.call?.phase === "ringing")
          yield* bob.calls.accept
          yield* until(alice, (v) => v.call?.phase === "accepted")
          expect((yield* alice.calls.view).remote).toEqual([])

          yield* network.heal
          yield* until(alice, (v) => v.remote.length === 2)
          yield* until(bob, (v) => v.remote.length === 2)
          expect(yield* channelOpen(alice, bob)).toBe(true)
          expect(media.sending(alice.id, bob.id).slice().sort()).toEqual(["camera", "microphone"])
          expect((yield* bob.calls.view).call?.phase).toBe("accepted")
        })
      )
    ))

  it("an accepted call whose connection never opens ends after the wait, on both sides", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const { alice, bob } = yield* partitioned()
          yield* alice.calls.dial([bob.id], "audio")
          yield* until(bob, (v) => v.call?.phase === "ringing")
          yield* bob.calls.accept
          yield* until(alice, (v) => v.call?.phase === "accepted")
          yield* until(alice, (v) => v.call?.phase === "ended", 200)
          yield* until(bob, (v) => v.call?.phase === "ended", 200)
          expect((yield* alice.calls.view).problems.join("\n")).toContain("no connection to bob")
        })
      )
    ))

  it("hostile call slots are skipped with a reason and stale ones do not ring", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const { world, bob } = yield* partitioned()
          const file = world.presenceFile!
          const doc = decodeDocument(file.text)
          if (doc._tag === "Left") throw new Error(doc.left.detail)
          const at = (ms: number) => new Date(ms).toISOString()
          const clock = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const from = { username: "alice", session_id: "s1" }
          const to = { username: "bob", session_id: "s1" }
          const carol = { username: "carol", session_id: "s1" }
          const invite = (call: string, caller: string) => ({
            _tag: "invite",
            call,
            media: "audio",
            participants: [{ username: caller, sessionId: "s1" }, { username: "bob", sessionId: "s1" }]
          })
          const wire = JSON.parse(encodeDocument(doc.right.document)) as Record<string, unknown>
          world.writePresenceFile(
            JSON.stringify({
              ...wire,
              calls: [
                // Malformed: an unknown signal.
                { from, to, at: at(clock), signals: [{ id: "m.1", at: at(clock), signal: { _tag: "ring-forever", call: "x" } }] },
                // Oversized.
                { from, to, at: at(clock), signals: [{ id: "m.2", at: at(clock), signal: invite("big", "alice") }], padding: "x".repeat(MAX_CALL_SLOT_CHARS) },
                // Well-formed but stale: an invite sent a minute ago no longer rings.
                { from: carol, to, at: at(clock), signals: [{ id: "m.3", at: at(clock - 60_000), signal: invite("old", "carol") }] }
              ]
            })
          )
          yield* Effect.sleep("30 seconds")
          const view = yield* bob.handle.view
          expect(view.presenceProblem).toContain("call slot")
          expect((yield* bob.calls.view).call).toBeUndefined()

          // The same invite, fresh, rings: it was its age that kept it out.
          const later = yield* Effect.clockWith((c) => c.currentTimeMillis)
          const current = decodeDocument(world.presenceFile!.text)
          if (current._tag === "Left") throw new Error(current.left.detail)
          world.writePresenceFile(
            JSON.stringify({
              ...(JSON.parse(encodeDocument(current.right.document)) as Record<string, unknown>),
              calls: [{ from: carol, to, at: at(later), signals: [{ id: "m.4", at: at(later), signal: invite("fresh", "carol") }] }]
            })
          )
          yield* until(bob, (v) => v.call?.phase === "ringing")
          expect((yield* bob.calls.view).call?.id).toBe("fresh")
        })
      )
    ))
})
