/**
 * Whole peers for calls tests: startPeer on the memory GitHub and the simulated network,
 * with the calls service on top, driven in virtual time.
 */
import { Effect } from "effect"
import type { FakeMediaWorld } from "../../src/adapters/media/fake.js"
import { makeConversationRepo } from "../../src/adapters/memory/conversation-repo.js"
import type { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { makeMemoryStore } from "../../src/adapters/memory/local-store.js"
import type { MemoryNetwork } from "../../src/adapters/memory/network.js"
import { makeDiscussionPresence, makeFilePresence } from "../../src/adapters/memory/presence.js"
import { makeCalls, type CallsService, type CallsView } from "../../src/app/calls.js"
import { startPeer, type PeerHandle } from "../../src/app/peer.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { ConversationRepo } from "../../src/ports/ConversationRepo.js"
import { LocalStore } from "../../src/ports/LocalStore.js"
import { Media } from "../../src/ports/Media.js"
import { PeerTransport } from "../../src/ports/PeerTransport.js"
import { Presence } from "../../src/ports/Presence.js"

/** One session of a user: its peer and its calls service. */
export interface Member {
  readonly id: PeerId
  readonly handle: PeerHandle
  readonly calls: CallsService
}

/** How a member is set up. */
export interface MemberOptions {
  /** The presence form (file by default). */
  readonly form?: "file" | "discussion"
  /** Whether call control may fall back to the presence channel (it does in the app; off shows the data channel alone). */
  readonly fallback?: boolean
}

/** Starts a member of `user` in the current scope. */
export const member = (world: MemoryGitHub, network: MemoryNetwork, media: FakeMediaWorld, user: string, options: MemberOptions = {}) =>
  Effect.gen(function* () {
    const id = makePeerId(user, "s1")
    const transport = yield* network.attach(id)
    const handle = yield* startPeer({ self: id }).pipe(
      Effect.provideService(Presence, options.form === "discussion" ? makeDiscussionPresence(world, user) : makeFilePresence(world, user)),
      Effect.provideService(ConversationRepo, makeConversationRepo(world, user)),
      Effect.provideService(LocalStore, makeMemoryStore()),
      Effect.provideService(PeerTransport, transport)
    )
    const calls = yield* makeCalls({ self: id, ...(options.fallback === false ? {} : { fallback: handle.callFallback }) }).pipe(
      Effect.provideService(PeerTransport, transport),
      Effect.provideService(Media, yield* media.attach(id))
    )
    return { id, handle, calls } satisfies Member
  })

/** Waits (in virtual time, a second at a time) until `check` holds on the member's call view. */
export const until = (m: Member, check: (v: CallsView) => boolean, limitSeconds = 120) =>
  Effect.gen(function* () {
    for (let i = 0; i < limitSeconds; i++) {
      if (check(yield* m.calls.view)) return
      yield* Effect.sleep("1 second")
    }
    return yield* Effect.dieMessage(`condition not reached within ${limitSeconds} s: ${JSON.stringify(yield* m.calls.view)}`)
  })
