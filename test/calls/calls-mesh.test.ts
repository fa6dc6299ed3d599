/**
 * Calls on top of whole peers (startPeer on the memory presence channel and the
 * simulated network), in virtual time: a call placed before the mesh has any
 * channel rings once the mesh connects through the presence channel, and the
 * calls service shares the peer's transport without disturbing chat.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { makeFakeMediaWorld, type FakeMediaWorld } from "../../src/adapters/media/fake.js"
import { makeConversationRepo } from "../../src/adapters/memory/conversation-repo.js"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { makeMemoryStore } from "../../src/adapters/memory/local-store.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { makeFilePresence } from "../../src/adapters/memory/presence.js"
import { makeCalls, type CallsService, type CallsView } from "../../src/app/calls.js"
import { startPeer, type PeerHandle } from "../../src/app/peer.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { ConversationId } from "../../src/domain/message.js"
import { ConversationRepo } from "../../src/ports/ConversationRepo.js"
import { LocalStore } from "../../src/ports/LocalStore.js"
import { Media } from "../../src/ports/Media.js"
import { PeerTransport } from "../../src/ports/PeerTransport.js"
import { Presence } from "../../src/ports/Presence.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const general = ConversationId.make("general")

interface Member {
  readonly id: PeerId
  readonly handle: PeerHandle
  readonly calls: CallsService
}

const member = (world: MemoryGitHub, network: MemoryNetwork, media: FakeMediaWorld, user: string) =>
  Effect.gen(function* () {
    const id = makePeerId(user, "s1")
    const transport = yield* network.attach(id)
    const handle = yield* startPeer({ self: id }).pipe(
      Effect.provideService(Presence, makeFilePresence(world, user)),
      Effect.provideService(ConversationRepo, makeConversationRepo(world, user)),
      Effect.provideService(LocalStore, makeMemoryStore()),
      Effect.provideService(PeerTransport, transport)
    )
    const calls = yield* makeCalls({ self: id }).pipe(
      Effect.provideService(PeerTransport, transport),
      Effect.provideService(Media, yield* media.attach(id))
    )
    return { id, handle, calls } satisfies Member
  })

/** Waits (in virtual time, a second at a time) until `check` holds on the member's call view. */
const until = (m: Member, check: (v: CallsView) => boolean, limitSeconds = 120) =>
  Effect.gen(function* () {
    for (let i = 0; i < limitSeconds; i++) {
      if (check(yield* m.calls.view)) return
      yield* Effect.sleep("1 second")
    }
    return yield* Effect.dieMessage(`condition not reached within ${limitSeconds} s: ${JSON.stringify(yield* m.calls.view)}`)
  })

describe("calls on whole peers", () => {
  it("a call placed before any channel exists rings once the mesh connects, then carries media and chat goes on", () =>
    runVirtualOrThrow(
      Effect.scoped(
        Effect.gen(function* () {
          const world = new MemoryGitHub()
          const network = yield* MemoryNetwork.make()
          const media = makeFakeMediaWorld()
          const alice = yield* member(world, network, media, "alice")
          const bob = yield* member(world, network, media, "bob")

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
