/**
 * Calls on top of whole peers (startPeer on the memory presence channel and the
 * simulated network), in virtual time: a call placed before the mesh has any
 * channel rings once the mesh connects through the presence channel, and the
 * calls service shares the peer's transport without disturbing chat.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { makeFakeMediaWorld } from "../../src/adapters/media/fake.js"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { ConversationId } from "../../src/domain/message.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"
import { member, until } from "./whole-peers.js"

const general = ConversationId.make("general")

describe("calls on whole peers", () => {
  it("a call placed before any channel exists rings once the mesh connects, then carries media and chat goes on", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const world = new MemoryGitHub()
          const network = yield* MemoryNetwork.make()
          const media = makeFakeMediaWorld()
          const alice = yield* member(world, network, media, "alice", { fallback: false })
          const bob = yield* member(world, network, media, "bob", { fallback: false })

          yield* alice.calls.dial([bob.id], "video")
          expect((yield* bob.calls.view).call).toBeUndefined()
          yield* until(bob, (v) => v.call?.phase === "ringing")
          expect((yield* alice.handle.view).links.find((l) => l.peer.username === "bob")?.state).toBe("open")

          yield* bob.calls.accept
          yield* until(alice, (v) => v.call?.phase === "accepted" && v.remote.length === 2)
          yield* until(bob, (v) => v.remote.length === 2)
          expect(media.sending(alice.id, bob.id).slice().sort()).toEqual(["camera", "microphone"])

          yield* alice.handle.send(general, "during the call")
          yield* Effect.sleep("2 seconds")
          expect((yield* bob.handle.history(general, 10)).map((m) => m.text)).toContain("during the call")

          yield* bob.calls.hangUp
          yield* until(alice, (v) => v.call?.phase === "ended" && v.local.length === 0 && v.remote.length === 0)
          expect(media.live(alice.id)).toEqual([])
          expect(media.live(bob.id)).toEqual([])
        })
      )
    ))
})
