/**
 * Regression (CI failure of the relayed NAT test, 2026-12-02): the transport reports a
 * connection's state after the fact, and closing a connection reports "closed". The mesh took
 * every "closed" or "failed" as the failure of the peer's current attempt, so:
 * - an attempt the mesh had already failed (deadline, refused answer) and closed counted twice,
 *   doubling the presence backoff (60 s became 120 s) and showing the link "failed" after two
 *   tries instead of four;
 * - a late "closed" of an attempt replaced by a newer offer failed the newer attempt.
 * On a loaded machine the relayed connection through TURN never opened within 150 s. Events now
 * name their attempt, and the mesh acts only on the attempt it holds.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Description } from "../../src/domain/envelope.js"
import { peerKey } from "../../src/domain/identity.js"
import { handleDescription, onChannel } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import { onChannelEvent } from "../../src/app/catch-up.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { peer } from "../support/fixtures.js"
import { meshContext } from "../support/mesh-context.js"

const alice = peer("alice", "a1")
const bob = peer("bob", "b1")
const carol = peer("carol", "c1")
const offer = (attempt: string): Description => ({ type: "offer", sdp: `v=0 offer ${attempt}` })
const answer: Description = { type: "answer", sdp: "v=0 answer of carol" }

/** Carol, who answers alice's offers relayed by bob, her one neighbor (alice's session is known with its fingerprint). */
const carolAnswering = () => {
  const closed: Array<string> = []
  const summaries: Array<string> = []
  const transport: PeerTransportService = {
    fingerprint: "sha-256 CA:40",
    offer: () => Effect.die("not used"),
    answer: () => Effect.succeed(answer),
    complete: () => Effect.void,
    send: (p, envelope) => Effect.sync(() => void (envelope.type === "chat" && envelope.payload._tag === "summary" && summaries.push(peerKey(p)))),
    close: (p) => Effect.sync(() => void closed.push(peerKey(p))),
    incoming: Effect.succeed(Stream.empty),
    events: Effect.succeed(Stream.empty)
  }
  const state = initialState(0)
  state.links.set(peerKey(bob), { peer: bob, state: "open", attempt: "b1.1", via: "presence", relayVia: undefined, deadline: 0, failures: 0, retryAt: 0, meshRetryAt: 0, heardAt: 0 })
  state.known.set(peerKey(alice), { ...alice, lastSeen: 0, fingerprint: "sha-256 A1:1C" })
  const ctx = meshContext(carol, state, transport)
  const link = () => ctx.state.links.get(peerKey(alice))
  return { ctx, closed, summaries, link }
}

describe("connection events of an attempt the mesh no longer holds", () => {
  it("a failed attempt counts once, though its closing is reported after the failure", () => {
    const { ctx, closed, link } = carolAnswering()
    Effect.runSync(handleDescription(ctx, alice, "a1.7", offer("a1.7"), "mesh", bob))
    expect(link()).toMatchObject({ state: "connecting", attempt: "a1.7" })

    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "failed" }))
    expect(link()).toMatchObject({ state: "reconnecting", attempt: undefined, failures: 1 })
    const retryAt = link()!.retryAt

    // The transport then reports the attempt's connection closed (as closing it does).
    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "closed" }))
    expect(link()).toMatchObject({ state: "reconnecting", failures: 1, retryAt })
    // Its connection was closed once, when it failed.
    expect(closed).toEqual(["alice/a1"])
  })

  it("a late close of a replaced attempt leaves the newer attempt going", () => {
    const { ctx, link } = carolAnswering()
    Effect.runSync(handleDescription(ctx, alice, "a1.7", offer("a1.7"), "mesh", bob))
    Effect.runSync(handleDescription(ctx, alice, "a1.8", offer("a1.8"), "mesh", bob))
    expect(link()).toMatchObject({ state: "connecting", attempt: "a1.8" })

    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "closed" }))
    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "open" }))
    expect(link()).toMatchObject({ state: "connecting", attempt: "a1.8", failures: 0 })

    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.8", state: "open" }))
    expect(link()).toMatchObject({ state: "open", attempt: "a1.8" })
  })

  it("a late open of a replaced attempt sends no catch-up summary; the held attempt's open sends one", () => {
    const { ctx, summaries } = carolAnswering()
    Effect.runSync(handleDescription(ctx, alice, "a1.7", offer("a1.7"), "mesh", bob))
    Effect.runSync(handleDescription(ctx, alice, "a1.8", offer("a1.8"), "mesh", bob))
    Effect.runSync(onChannelEvent(ctx, { peer: alice, attempt: "a1.7", state: "open" }))
    expect(summaries).toEqual([])

    Effect.runSync(onChannelEvent(ctx, { peer: alice, attempt: "a1.8", state: "open" }))
    expect(summaries).toEqual(["alice/a1"])
  })

  it("the open connection's own close is a failure of the link, once", () => {
    const { ctx, link } = carolAnswering()
    Effect.runSync(handleDescription(ctx, alice, "a1.7", offer("a1.7"), "mesh", bob))
    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "open" }))
    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "closed" }))
    Effect.runSync(onChannel(ctx, { peer: alice, attempt: "a1.7", state: "failed" }))
    expect(link()).toMatchObject({ state: "reconnecting", attempt: undefined, failures: 1 })
  })
})
