/**
 * An ICE restart's offer and answer travel through a third peer (issue 10 §2). When the path
 * between alice and bob is lost, their data channel cannot carry the restart's signaling, and
 * the presence channel would take a poll interval or more: a neighbor that reaches the other
 * side relays it at once. Each hop is driven here on one peer's mesh manager with a transport
 * that records what it is asked to do: alice (who offered the connection, so offers its
 * restart) sends the offer to carol; carol forwards it to bob; bob answers the same
 * connection and sends the answer back through carol, who relayed the offer; alice completes
 * the restart. Without such a neighbor, the offer goes to the presence channel instead.
 */
import { describe, expect, it } from "vitest"
import { Effect, Stream } from "effect"
import type { Description, Envelope, EnvelopeOf } from "../../src/domain/envelope.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { onChannel, onMeshEnvelope } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import type { Link } from "../../src/app/peer-state.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { peer } from "../support/fixtures.js"
import { meshContext } from "../support/mesh-context.js"

const alice = peer("alice", "a1")
const bob = peer("bob", "b1")
const carol = peer("carol", "c1")
/** The alice-bob connection, which alice offered; its first ICE restart. */
const CONNECTION = "a1.3"
const RESTART = `${CONNECTION}:r1`
const restartOffer: Description = { type: "offer", sdp: "v=0 ice restart offer of alice" }
const restartAnswer: Description = { type: "answer", sdp: "v=0 ice restart answer of bob" }

const fingerprints: Record<string, string> = { alice: "sha-256 A1:1C", bob: "sha-256 B0:B0", carol: "sha-256 CA:40" }

interface Recorder {
  readonly sent: Array<{ readonly to: PeerId; readonly envelope: Envelope }>
  readonly answered: Array<{ readonly peer: PeerId; readonly attempt: string; readonly description: Description }>
  readonly completed: Array<{ readonly peer: PeerId; readonly attempt: string; readonly description: Description }>
}

const openLink = (p: PeerId, attempt: string): Link => ({
  peer: p,
  state: "open",
  attempt,
  via: "presence",
  relayVia: undefined,
  deadline: 0,
  failures: 0,
  retryAt: 0,
  meshRetryAt: 0,
  heardAt: 0
})

/** `self`'s mesh manager with open links to `open` (peer and connection attempt) and the neighbor lists given. */
const peerWith = (self: PeerId, open: ReadonlyArray<readonly [PeerId, string]>, reports: ReadonlyArray<readonly [PeerId, ReadonlyArray<PeerId>]>) => {
  const record: Recorder = { sent: [], answered: [], completed: [] }
  const transport: PeerTransportService = {
    fingerprint: fingerprints[self.username]!,
    offer: () => Effect.die("a restart is offered by the transport, not through offer()"),
    answer: (remote, attempt, description) =>
      Effect.sync(() => {
        record.answered.push({ peer: remote.peer, attempt, description })
        return restartAnswer
      }),
    complete: (remote, attempt, description) => Effect.sync(() => void record.completed.push({ peer: remote.peer, attempt, description })),
    send: (to, envelope) => Effect.sync(() => void record.sent.push({ to, envelope })),
    close: () => Effect.void,
    incoming: Effect.succeed(Stream.empty),
    events: Effect.succeed(Stream.empty)
  }
  const state = initialState(0)
  for (const [p, attempt] of open) {
    state.links.set(peerKey(p), openLink(p, attempt))
    state.known.set(peerKey(p), { ...p, lastSeen: 0, fingerprint: fingerprints[p.username]! })
  }
  for (const [p, neighbors] of reports) state.reports.set(peerKey(p), { peer: p, neighbors: [...neighbors], heardAt: 0 })
  let woken = 0
  const ctx = meshContext(self, state, transport, Effect.sync(() => void (woken += 1)))
  return { ctx, record, woken: () => woken }
}

const signalPayload = (envelope: Envelope) => (envelope.type === "signal" ? envelope.payload : undefined)

describe("an ICE restart whose path is lost", () => {
  it("is signaled through a third peer both ways, on the same connection, without the presence channel", () => {
    // Alice: connected to bob (path just lost) and to carol, whose heartbeat lists bob.
    const a = peerWith(alice, [[bob, CONNECTION], [carol, "a1.4"]], [[carol, [alice, bob]]])
    Effect.runSync(onChannel(a.ctx, { peer: bob, attempt: CONNECTION, state: "restarting", restartOffer: { attempt: RESTART, description: restartOffer } }))
    expect(a.ctx.state.links.get(peerKey(bob))?.state).toBe("reconnecting")
    expect(a.ctx.state.outbox.size).toBe(0)
    expect(a.woken()).toBe(0)
    // The link to bob was taken out of the report heartbeat sent on change; the offer goes to carol.
    const toCarol = a.record.sent.filter((s) => signalPayload(s.envelope)?._tag === "description")
    expect(toCarol).toHaveLength(1)
    expect(peerKey(toCarol[0]!.to)).toBe(peerKey(carol))
    expect(signalPayload(toCarol[0]!.envelope)).toMatchObject({ origin: alice, target: bob, attempt: RESTART, description: restartOffer })

    // Carol forwards it unchanged to bob.
    const c = peerWith(carol, [[alice, "a1.4"], [bob, "b1.2"]], [])
    Effect.runSync(onMeshEnvelope(c.ctx, toCarol[0]!.envelope as EnvelopeOf<"signal">, 1_000))
    expect(c.record.sent).toHaveLength(1)
    expect(peerKey(c.record.sent[0]!.to)).toBe(peerKey(bob))
    const forwarded = c.record.sent[0]!.envelope as EnvelopeOf<"signal">
    expect(forwarded.from).toEqual(carol)
    expect(forwarded.payload).toEqual(signalPayload(toCarol[0]!.envelope))

    // Bob answers the restart of the same connection and sends the answer back through carol.
    const b = peerWith(bob, [[alice, CONNECTION], [carol, "b1.2"]], [[carol, [alice, bob]]])
    Effect.runSync(onMeshEnvelope(b.ctx, forwarded, 1_100))
    expect(b.record.answered).toEqual([{ peer: alice, attempt: RESTART, description: restartOffer }])
    expect(b.ctx.state.links.get(peerKey(alice))?.attempt).toBe(CONNECTION)
    expect(b.ctx.state.outbox.size).toBe(0)
    const back = b.record.sent.filter((s) => signalPayload(s.envelope)?._tag === "description")
    expect(back).toHaveLength(1)
    expect(peerKey(back[0]!.to)).toBe(peerKey(carol))
    expect(signalPayload(back[0]!.envelope)).toMatchObject({ origin: bob, target: alice, attempt: RESTART, description: restartAnswer })

    // Carol forwards the answer to alice, who completes the restart of the same connection.
    Effect.runSync(onMeshEnvelope(c.ctx, back[0]!.envelope as EnvelopeOf<"signal">, 1_200))
    const toAlice = c.record.sent[1]!
    expect(peerKey(toAlice.to)).toBe(peerKey(alice))
    Effect.runSync(onMeshEnvelope(a.ctx, toAlice.envelope as EnvelopeOf<"signal">, 1_300))
    expect(a.record.completed).toEqual([{ peer: bob, attempt: RESTART, description: restartAnswer }])
    expect(a.ctx.state.links.get(peerKey(bob))?.attempt).toBe(CONNECTION)
    expect(a.ctx.state.outbox.size).toBe(0)
  })

  it("with no neighbor that reaches the other side, goes to the presence channel", () => {
    // Carol's heartbeat does not list bob: nobody can relay.
    const a = peerWith(alice, [[bob, CONNECTION], [carol, "a1.4"]], [[carol, [alice]]])
    Effect.runSync(onChannel(a.ctx, { peer: bob, attempt: CONNECTION, state: "restarting", restartOffer: { attempt: RESTART, description: restartOffer } }))
    expect(a.record.sent.filter((s) => signalPayload(s.envelope)?._tag === "description")).toHaveLength(0)
    expect(a.ctx.state.outbox.get(peerKey(bob))).toMatchObject({ to: bob, attempt: RESTART, sdp: restartOffer.sdp, type: "offer" })
    expect(a.woken()).toBe(1)
  })

  it("offered by the side whose role is to answer is refused, and nothing is answered", () => {
    // Bob offered nothing: a restart offer "from" bob to alice breaks the roles.
    const a = peerWith(alice, [[bob, CONNECTION], [carol, "a1.4"]], [])
    const fromBob: EnvelopeOf<"signal"> = {
      v: 1,
      id: "x1",
      type: "signal",
      from: carol,
      to: null,
      timestamp: 1_000,
      payload: { _tag: "description", origin: bob, target: alice, attempt: RESTART, description: restartOffer }
    } as EnvelopeOf<"signal">
    Effect.runSync(onMeshEnvelope(a.ctx, fromBob, 1_000))
    expect(a.record.answered).toEqual([])
    expect(a.ctx.state.rejections.some((r) => r.reason.includes("ICE restart offer from a peer whose role is to answer"))).toBe(true)
  })
})
