/**
 * Regression (commit b939276): a peer answering an offer relayed through the mesh used
 * to look for a route back in its neighbors' last heartbeats only. When the relaying
 * neighbor's heartbeat predated its own link to the offerer, no route was found, the
 * answer was dropped and the offerer waited for its signal timeout (48 s meshes in
 * bench:net). The answer now goes back through the neighbor that relayed the offer.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Description, Envelope } from "../../src/domain/envelope.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { handleDescription } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { peer } from "../support/fixtures.js"
import { meshContext } from "../support/mesh-context.js"

const alice = peer("alice", "a1")
const bob = peer("bob", "b1")
const carol = peer("carol", "c1")
const offer: Description = { type: "offer", sdp: "v=0 offer of alice" }
const answer: Description = { type: "answer", sdp: "v=0 answer of carol" }

/** Carol, with an open link to bob only, and a transport that records what it sends. */
const carolWithBob = () => {
  const sent: Array<{ readonly to: PeerId; readonly envelope: Envelope }> = []
  const transport: PeerTransportService = {
    fingerprint: "sha-256 CA:40",
    offer: () => Effect.die("not used"),
    answer: () => Effect.succeed(answer),
    complete: () => Effect.void,
    send: (to, envelope) => Effect.sync(() => void sent.push({ to, envelope })),
    close: () => Effect.void,
    incoming: Effect.succeed(Stream.empty),
    events: Effect.succeed(Stream.empty)
  }
  const state = initialState(0)
  state.links.set(peerKey(bob), { peer: bob, state: "open", attempt: "b1.1", via: "presence", relayVia: undefined, deadline: 0, failures: 0, retryAt: 0, meshRetryAt: 0, heardAt: 0 })
  // Alice's entry publishes her fingerprint (an offer from a session without one is refused).
  state.known.set(peerKey(alice), { ...alice, lastSeen: 0, fingerprint: "sha-256 A1:1C" })
  // Bob's last heartbeat to carol was sent before bob connected to alice: it does not list her.
  state.reports.set(peerKey(bob), { peer: bob, neighbors: [carol], heardAt: 0 })
  const ctx = meshContext(carol, state, transport)
  return { ctx, sent }
}

describe("an answer to a relayed offer", () => {
  it("goes back through the neighbor that relayed the offer, though no heartbeat lists the offerer yet", () => {
    const { ctx, sent } = carolWithBob()
    Effect.runSync(handleDescription(ctx, alice, "a1.7", offer, "mesh", bob))
    expect(sent).toHaveLength(1)
    expect(peerKey(sent[0]!.to)).toBe(peerKey(bob))
    const envelope = sent[0]!.envelope
    expect(envelope.type).toBe("signal")
    expect(envelope.type === "signal" && envelope.payload).toMatchObject({
      _tag: "description",
      origin: carol,
      target: alice,
      attempt: "a1.7",
      description: answer
    })
    expect(ctx.state.links.get(peerKey(alice))?.state).toBe("connecting")
  })

  it("without a relaying neighbor and with no route, fails the attempt with a reason instead of waiting", () => {
    const { ctx, sent } = carolWithBob()
    Effect.runSync(handleDescription(ctx, alice, "a1.8", offer, "mesh"))
    expect(sent).toHaveLength(0)
    expect(ctx.state.rejections.some((r) => r.reason.includes("no neighbor reaches this peer"))).toBe(true)
    expect(ctx.state.links.get(peerKey(alice))?.attempt).toBeUndefined()
  })
})
