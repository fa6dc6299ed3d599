/**
 * Connection attempts in flight are bounded (made-up sessions once cost a peer 20,000 open files).
 * A joiner of a large mesh is offered to by every member at once: offers past the bound wait for an
 * attempt to settle and are answered then, instead of being refused and retried minutes later.
 * Offers relayed from sessions this peer sees in presence are not rate-limited either; relayed
 * offers from sessions it does not believe still are.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Description } from "../../src/domain/envelope.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { handleDescription, MAX_RELAYED_OFFERS_PER_MINUTE, MAX_WAITING_OFFERS, onMeshEnvelope, reconcile } from "../../src/app/mesh.js"
import { MAX_ATTEMPTS_IN_FLIGHT } from "../../src/domain/mesh-reconcile.js"
import { initialState } from "../../src/app/peer.js"
import type { PeerState } from "../../src/app/peer-state.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { peer } from "../support/fixtures.js"
import { meshContext } from "../support/mesh-context.js"

const zz = peer("zz", "z1")
const relay = peer("aa", "a1")
const member = (i: number): PeerId => peer(`m${String(i).padStart(3, "0")}`, `s${i}`)
const offer: Description = { type: "offer", sdp: "v=0 offer" }

const transportOf = (answered: Array<string>): PeerTransportService => ({
  fingerprint: "sha-256 00:01",
  offer: () => Effect.die("zz offers to no one here"),
  answer: (remote) => Effect.sync(() => (answered.push(peerKey(remote.peer)), { type: "answer" as const, sdp: "v=0 answer" })),
  complete: () => Effect.void,
  send: () => Effect.void,
  close: () => Effect.void,
  incoming: Effect.succeed(Stream.empty),
  events: Effect.succeed(Stream.empty)
})

/** Zz's state with `count` members in presence, each with a fingerprint. */
const stateWith = (count: number): PeerState => {
  const state = initialState(0, zz)
  const now = Date.now()
  for (const p of [relay, ...Array.from({ length: count }, (_, i) => member(i))]) {
    state.known.set(peerKey(p), { ...p, lastSeen: now, fingerprint: `sha-256 ${p.username}` })
  }
  state.online = new Map(state.known)
  // Zz's first neighbor, through which every member's offer comes.
  state.links.set(peerKey(relay), { peer: relay, state: "open", attempt: "a1.1", via: "presence", relayVia: undefined, deadline: 0, failures: 0, retryAt: 0, meshRetryAt: 0, heardAt: now })
  state.firstOpen.set(peerKey(relay), now)
  return state
}

describe("offers past the attempts bound", () => {
  it("wait for an attempt to settle and are answered then, not refused", () => {
    const answered: Array<string> = []
    const count = MAX_ATTEMPTS_IN_FLIGHT + 8
    const state = stateWith(count)
    const ctx = meshContext(zz, state, transportOf(answered))
    for (let i = 0; i < count; i++) Effect.runSync(handleDescription(ctx, member(i), `s${i}.1`, offer, "mesh", relay))
    expect(answered).toHaveLength(MAX_ATTEMPTS_IN_FLIGHT)
    expect(state.refused.size).toBe(0)
    expect(state.waiting.size).toBe(8)

    // Reconciling frees nothing while every attempt is still in flight.
    Effect.runSync(reconcile(ctx))
    expect(answered).toHaveLength(MAX_ATTEMPTS_IN_FLIGHT)

    // Three attempts settle (their channels open): the next tick answers three waiting offers.
    for (let i = 0; i < 3; i++) state.links.get(peerKey(member(i)))!.state = "open"
    Effect.runSync(reconcile(ctx))
    expect(answered).toHaveLength(MAX_ATTEMPTS_IN_FLIGHT + 3)
    expect(answered.slice(-3)).toEqual([member(16), member(17), member(18)].map(peerKey))
    expect(state.links.get(peerKey(member(16)))).toMatchObject({ attempt: "s16.1", via: "mesh" })
    expect(state.waiting.size).toBe(5)
  })

  it("are refused once as many wait as a peer considers entries", () => {
    const answered: Array<string> = []
    const count = MAX_ATTEMPTS_IN_FLIGHT + MAX_WAITING_OFFERS + 1
    const state = stateWith(count)
    const ctx = meshContext(zz, state, transportOf(answered))
    for (let i = 0; i < count; i++) Effect.runSync(handleDescription(ctx, member(i), `s${i}.1`, offer, "mesh", relay))
    expect(answered).toHaveLength(MAX_ATTEMPTS_IN_FLIGHT)
    expect(state.waiting.size).toBe(MAX_WAITING_OFFERS)
    expect(state.refused.get("attempts-bound")).toBe(1)
  })
})

describe("offers relayed by one neighbor", () => {
  const relayed = (state: PeerState, origin: PeerId, at: number) =>
    onMeshEnvelope(meshContext(zz, state, transportOf([])), {
      type: "signal",
      id: `e${peerKey(origin)}`,
      from: relay,
      to: zz,
      timestamp: at,
      payload: { _tag: "description", origin, target: zz, attempt: `${origin.sessionId}.1`, description: offer }
    } as never, at)

  it("are not rate-limited from sessions seen in presence", () => {
    const state = stateWith(3 * MAX_RELAYED_OFFERS_PER_MINUTE)
    const at = Date.now()
    for (let i = 0; i < 3 * MAX_RELAYED_OFFERS_PER_MINUTE; i++) Effect.runSync(relayed(state, member(i), at))
    expect(state.refused.get("relayed-offer-rate")).toBeUndefined()
  })

  it("are rate-limited from sessions this peer does not believe", () => {
    const state = stateWith(0)
    const at = Date.now()
    for (let i = 0; i < 3 * MAX_RELAYED_OFFERS_PER_MINUTE; i++) Effect.runSync(relayed(state, member(i), at))
    expect(state.refused.get("relayed-offer-rate")).toBe(2 * MAX_RELAYED_OFFERS_PER_MINUTE)
  })
})
