/**
 * Regressions found by the soak (file seeds 231 and 296): after a partition healed, the mesh
 * stayed split for the rest of the run, and each side never saw what the other said.
 * - The sponsor's offers to the other side's bridge failed while the network was cut and while
 *   GitHub refused writes. That session answered every offer, yet the presence backoff grew to
 *   8 minutes, since it was a new session, never linked before.
 * - A session declined a presence offer because a smaller member of its component was to answer
 *   it, and never looked at it again when that member left.
 * - A route through the mesh to a peer waited out that peer's presence backoff of minutes,
 *   though mesh signaling writes nothing to GitHub.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Description } from "../../src/domain/envelope.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { REJOIN_MAX_DELAY_MS } from "../../src/domain/link.js"
import { handleDescription, onChannel, reconcile } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import type { Link } from "../../src/app/peer-state.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { peer } from "../support/fixtures.js"
import { meshContext } from "../support/mesh-context.js"

const alice = peer("alice", "a1")
const bob = peer("bob", "b1")
const carol = peer("carol", "c1")
const offer: Description = { type: "offer", sdp: "v=0 offer of alice" }
const answer: Description = { type: "answer", sdp: "v=0 answer" }

const transportOf = (offers: Array<string> = [], answered: Array<string> = []): PeerTransportService => ({
  fingerprint: "sha-256 00:01",
  offer: (remote, attempt) => Effect.sync(() => (offers.push(`${peerKey(remote.peer)} ${attempt}`), { type: "offer" as const, sdp: `v=0 ${attempt}` })),
  answer: (remote, attempt) => Effect.sync(() => (answered.push(`${peerKey(remote.peer)} ${attempt}`), answer)),
  complete: () => Effect.void,
  send: () => Effect.void,
  close: () => Effect.void,
  incoming: Effect.succeed(Stream.empty),
  events: Effect.succeed(Stream.empty)
})

const link = (p: PeerId, fields: Partial<Link>): Link => ({
  peer: p,
  state: "discovered",
  attempt: undefined,
  via: undefined,
  relayVia: undefined,
  deadline: Number.MAX_SAFE_INTEGER,
  failures: 0,
  retryAt: 0,
  meshRetryAt: 0,
  heardAt: Date.now(),
  ...fields
})

describe("rejoining after a partition heals", () => {
  it("a session that answered is retried briskly when its connection then fails", () => {
    const state = initialState(0, alice)
    state.known.set(peerKey(bob), { ...bob, lastSeen: Date.now(), fingerprint: "sha-256 B0:B0" })
    // Three offers already failed: the plain presence backoff is now 8 minutes.
    state.links.set(peerKey(bob), link(bob, { state: "signaling", attempt: "a1.4", via: "presence", failures: 3 }))
    const ctx = meshContext(alice, state, transportOf())
    Effect.runSync(handleDescription(ctx, bob, "a1.4", answer, "presence"))
    expect(state.links.get(peerKey(bob))).toMatchObject({ state: "connecting", attempt: "a1.4" })

    const before = Date.now()
    Effect.runSync(onChannel(ctx, { peer: bob, attempt: "a1.4", state: "failed" }))
    const after = state.links.get(peerKey(bob))!
    expect(after).toMatchObject({ failures: 4, attempt: undefined })
    expect(after.retryAt - before).toBeLessThanOrEqual(REJOIN_MAX_DELAY_MS + 1_000)
  })

  it("a presence offer another member was to answer is answered once that member is gone", () => {
    const answered: Array<string> = []
    const state = initialState(0, carol)
    const now = Date.now()
    for (const p of [alice, bob]) state.known.set(peerKey(p), { ...p, lastSeen: now, fingerprint: `sha-256 ${p.username}` })
    state.online = new Map(state.known)
    // Carol's component holds bob, smaller than her: bob answers alice's offers through presence.
    state.links.set(peerKey(bob), link(bob, { state: "open", attempt: "b1.1", via: "mesh" }))
    state.firstOpen.set(peerKey(bob), now)
    const ctx = meshContext(carol, state, transportOf([], answered))
    Effect.runSync(handleDescription(ctx, alice, "a1.9", offer, "presence"))
    expect(answered).toEqual([])

    // Bob goes (his connection closes): carol is now the one to answer, at the next read.
    Effect.runSync(onChannel(ctx, { peer: bob, attempt: "b1.1", state: "closed" }))
    Effect.runSync(handleDescription(ctx, alice, "a1.9", offer, "presence"))
    expect(answered).toEqual(["alice/a1 a1.9"])
    expect(state.links.get(peerKey(alice))).toMatchObject({ attempt: "a1.9", via: "presence" })
  })

  it("a route through the mesh is used at once, whatever the presence backoff", () => {
    const offers: Array<string> = []
    const state = initialState(0, alice)
    const now = Date.now()
    for (const p of [bob, carol]) state.known.set(peerKey(p), { ...p, lastSeen: now, fingerprint: `sha-256 ${p.username}` })
    state.online = new Map(state.known)
    // Bob is alice's neighbor and reaches carol; alice's presence offers to carol failed four times.
    state.links.set(peerKey(bob), link(bob, { state: "open", attempt: "a1.1", via: "presence" }))
    state.reports.set(peerKey(bob), { peer: bob, neighbors: [alice, carol], heardAt: now })
    state.links.set(peerKey(carol), link(carol, { state: "failed", failures: 4, retryAt: now + 480_000, meshRetryAt: now - 1 }))
    state.meshVersion += 1
    const ctx = meshContext(alice, state, transportOf(offers))
    Effect.runSync(reconcile(ctx))
    expect(offers).toEqual(["carol/c1 a1.1"])
    expect(state.links.get(peerKey(carol))).toMatchObject({ via: "mesh", attempt: "a1.1" })
  })
})
