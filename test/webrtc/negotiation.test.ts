/**
 * Perfect negotiation on an open connection, against a scripted RTCPeerConnection that
 * enforces the W3C signaling-state rules (a rollback from "stable" throws, as browsers
 * and @roamhq/wrtc do).
 *
 * Regression (commit 0b74176): the polite side rolled back on every offer collision, also
 * while its own createOffer() was still pending and the state was still "stable"; the
 * rollback threw, the remote offer was never applied and the call's renegotiation stalled.
 */
import { describe, expect, it } from "vitest"
import { Deferred, Effect, Fiber } from "effect"
import { Negotiator } from "../../src/adapters/webrtc/negotiation.js"

const sdp = (who: string, type: string) => `v=0\r\no=${who} 1 1 IN IP4 0.0.0.0\r\na=fingerprint:sha-256 AB:CD\r\na=x-${type}\r\n`

/** A peer connection reduced to its signaling state machine. */
class ScriptedPeerConnection {
  signalingState: RTCSignalingState = "stable"
  localDescription: RTCSessionDescriptionInit | null = null
  remoteDescription: RTCSessionDescriptionInit | null = { type: "answer", sdp: sdp("remote", "first") }
  readonly applied: Array<string> = []
  /** Resolves the pending createOffer() when the test says so. */
  releaseOffer: (() => void) | undefined

  createOffer(): Promise<RTCSessionDescriptionInit> {
    return new Promise((resolve) => {
      this.releaseOffer = () => resolve({ type: "offer", sdp: sdp("local", "offer") })
    })
  }
  async createAnswer(): Promise<RTCSessionDescriptionInit> {
    if (this.signalingState !== "have-remote-offer") throw new Error("InvalidStateError: no remote offer")
    return { type: "answer", sdp: sdp("local", "answer") }
  }
  async setLocalDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.applied.push(`local:${d.type}`)
    if (d.type === "rollback") {
      if (this.signalingState !== "have-local-offer" && this.signalingState !== "have-remote-offer") {
        throw new Error(`InvalidStateError: rollback in ${this.signalingState}`)
      }
      this.signalingState = "stable"
      this.localDescription = null
      return
    }
    if (d.type === "offer") {
      if (this.signalingState !== "stable") throw new Error(`InvalidStateError: offer in ${this.signalingState}`)
      this.signalingState = "have-local-offer"
    } else {
      if (this.signalingState !== "have-remote-offer") throw new Error(`InvalidStateError: answer in ${this.signalingState}`)
      this.signalingState = "stable"
    }
    this.localDescription = d
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    this.applied.push(`remote:${d.type}`)
    if (d.type === "offer") {
      if (this.signalingState !== "stable") throw new Error(`InvalidStateError: remote offer in ${this.signalingState}`)
      this.signalingState = "have-remote-offer"
    } else if (d.type === "answer") {
      if (this.signalingState !== "have-local-offer") throw new Error(`InvalidStateError: remote answer in ${this.signalingState}`)
      this.signalingState = "stable"
    }
    this.remoteDescription = d
  }
  async addIceCandidate(): Promise<void> {}
}

const setup = (polite: boolean) => {
  const pc = new ScriptedPeerConnection()
  const sent: Array<{ description?: { type: string } }> = []
  const negotiator = new Negotiator({
    pc: pc as unknown as RTCPeerConnection,
    polite,
    sendControl: (json) => {
      sent.push(JSON.parse(json) as { description?: { type: string } })
      return true
    }
  })
  return { pc, sent, negotiator }
}

const remoteOffer = JSON.stringify({ description: { type: "offer", sdp: sdp("remote", "offer") } })

describe("perfect negotiation", () => {
  it("the polite side answers an offer that arrives while its own offer is still being made", async () => {
    const { pc, sent, negotiator } = setup(true)
    await Effect.runPromise(
      Effect.gen(function* () {
        const making = yield* Effect.fork(negotiator.onNegotiationNeeded)
        // Let onNegotiationNeeded reach its pending createOffer(): state still "stable".
        while (pc.releaseOffer === undefined) yield* Effect.yieldNow()
        expect(pc.signalingState).toBe("stable")
        yield* negotiator.receive(remoteOffer)
        expect(pc.applied).toEqual(["remote:offer", "local:answer"])
        expect(sent.map((m) => m.description?.type)).toEqual(["answer"])
        // Our own offer, created meanwhile, goes out afterwards on stable ground: a new round.
        pc.releaseOffer!()
        yield* Fiber.join(making)
      })
    )
    expect(pc.applied).toEqual(["remote:offer", "local:answer", "local:offer"])
    expect(sent.map((m) => m.description?.type)).toEqual(["answer", "offer"])
  })

  it("the polite side rolls back a local offer it already set, then answers", async () => {
    const { pc, sent, negotiator } = setup(true)
    await Effect.runPromise(
      Effect.gen(function* () {
        const made = yield* Deferred.make<void>()
        const making = yield* Effect.fork(negotiator.onNegotiationNeeded.pipe(Effect.zipRight(Deferred.succeed(made, undefined))))
        while (pc.releaseOffer === undefined) yield* Effect.yieldNow()
        pc.releaseOffer!()
        yield* Deferred.await(made)
        yield* Fiber.join(making)
        expect(pc.signalingState).toBe("have-local-offer")
        yield* negotiator.receive(remoteOffer)
      })
    )
    expect(pc.applied).toEqual(["local:offer", "local:rollback", "remote:offer", "local:answer"])
    expect(sent.map((m) => m.description?.type)).toEqual(["offer", "answer"])
  })

  it("the impolite side ignores a colliding offer and keeps its own", async () => {
    const { pc, sent, negotiator } = setup(false)
    await Effect.runPromise(
      Effect.gen(function* () {
        const making = yield* Effect.fork(negotiator.onNegotiationNeeded)
        while (pc.releaseOffer === undefined) yield* Effect.yieldNow()
        pc.releaseOffer!()
        yield* Fiber.join(making)
        yield* negotiator.receive(remoteOffer)
      })
    )
    expect(pc.applied).toEqual(["local:offer"])
    expect(pc.signalingState).toBe("have-local-offer")
    expect(sent.map((m) => m.description?.type)).toEqual(["offer"])
  })
})
