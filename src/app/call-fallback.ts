/**
 * The peer's side of call control through the presence channel: the calls service
 * posts a call slot for a peer it cannot reach on a data channel, and the slot goes
 * out with the peer's next presence write (entries, connection slots and call slots
 * in one request, spaced by the budget); call slots addressed to this session come
 * back from the presence poller. Every change goes through the peer's actor.
 */
import { Effect, Option, PubSub } from "effect"
import { peerKey, type PeerId } from "../domain/identity.js"
import { relayTo } from "../domain/mesh-view.js"
import type { CallFallback } from "./calls-wire.js"
import type { PeerContext } from "./context.js"
import { openPeers } from "./mesh.js"

/** The presence route for the calls service of the peer `ctx`. */
export const makeCallFallback = (ctx: PeerContext): CallFallback => ({
  meshRoute: (peer: PeerId) => Effect.sync(() => Option.isSome(relayTo(peer, openPeers(ctx), ctx.state.reports))),
  post: (slot) =>
    ctx.inActor(
      Effect.sync(() => {
        ctx.state.callOutbox.set(peerKey(slot.to), slot)
      })
    ),
  cancel: (peer) =>
    ctx.inActor(
      Effect.sync(() => {
        // A write in flight carries it anyway; the receiver applies each signal once.
        if (!ctx.state.publish.publishing) ctx.state.callOutbox.delete(peerKey(peer))
      })
    ),
  subscribe: PubSub.subscribe(ctx.callSlots),
  // Set on the actor like every change of the peer's state; the poller is woken after it, so it sees the new pace.
  setWaiting: (waiting) =>
    ctx.inActor(
      Effect.suspend(() => {
        ctx.state.callWaiting = waiting
        // Reconsider the pace now rather than at the end of a long sleep.
        return waiting ? ctx.wakePoller : Effect.void
      })
    )
})
