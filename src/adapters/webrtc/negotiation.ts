/**
 * Perfect negotiation for renegotiation on a connection that is already open
 * (calls adding tracks, ICE restarts). Descriptions and candidates travel in-band
 * on the data channel; the polite side (the domain's non-offerer) yields on glare.
 * First contact does not use this: it is one complete offer and one complete answer.
 */
import { Effect, Schema } from "effect"
import { MAX_CANDIDATE_LENGTH } from "../../domain/envelope.js"
import { dtlsFingerprint, sdpProblem } from "./fingerprint.js"

const NegotiationMessage = Schema.Union(
  Schema.Struct({
    description: Schema.Struct({ type: Schema.Literal("offer", "answer"), sdp: Schema.String })
  }),
  Schema.Struct({
    candidate: Schema.Struct({
      candidate: Schema.String.pipe(Schema.maxLength(MAX_CANDIDATE_LENGTH)),
      sdpMid: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(64)))),
      sdpMLineIndex: Schema.optional(Schema.NullOr(Schema.Number))
    })
  })
)
type NegotiationMessage = typeof NegotiationMessage.Type
const decodeMessage = Schema.decodeUnknownEither(Schema.parseJson(NegotiationMessage))

/** What the negotiator needs from its connection. */
export interface NegotiationContext {
  readonly pc: RTCPeerConnection
  /** Whether this side yields when both offer at once. */
  readonly polite: boolean
  /** Sends one negotiation message in-band; false when it could not go out. */
  readonly sendControl: (json: string) => boolean
}

/** The renegotiation state machine of one connection. */
export class Negotiator {
  private makingOffer = false
  private ignoreOffer = false

  constructor(private readonly ctx: NegotiationContext) {}

  /** Makes and sends an offer; called on `negotiationneeded`. */
  readonly onNegotiationNeeded: Effect.Effect<void> = Effect.gen(this, function* () {
    const { pc } = this.ctx
    this.makingOffer = true
    yield* Effect.tryPromise(async () => {
      const offer = await pc.createOffer()
      // Glare may have set a remote offer while we were creating ours.
      if (pc.signalingState !== "stable") return
      await pc.setLocalDescription(offer)
      this.sendDescription()
    }).pipe(Effect.ignore, Effect.ensuring(Effect.sync(() => (this.makingOffer = false))))
  })

  /** Trickles a local candidate in-band. */
  onLocalCandidate(candidate: RTCIceCandidate | null): void {
    if (candidate === null || candidate.candidate === "") return
    this.ctx.sendControl(JSON.stringify({ candidate: { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex } }))
  }

  /** Applies one in-band message; fails with the reason when it is not acceptable. */
  receive(json: string): Effect.Effect<void, string> {
    return Effect.gen(this, function* () {
      const decoded = decodeMessage(json)
      if (decoded._tag === "Left") return yield* Effect.fail("malformed negotiation message")
      const message: NegotiationMessage = decoded.right
      const { pc, polite } = this.ctx
      if ("description" in message) {
        const description = message.description
        const problem = sdpProblem(description.sdp, description.type, description.type)
        if (problem !== undefined) return yield* Effect.fail(problem)
        // The connection's identity is the certificate it was set up with: renegotiation may not swap it.
        const current = pc.remoteDescription === null ? undefined : dtlsFingerprint(pc.remoteDescription.sdp)
        if (current !== undefined && dtlsFingerprint(description.sdp) !== current) {
          return yield* Effect.fail("renegotiation changes the DTLS fingerprint")
        }
        const offerCollision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable")
        this.ignoreOffer = !polite && offerCollision
        if (this.ignoreOffer) return
        yield* Effect.tryPromise(async () => {
          // The polite side may collide while its own createOffer() is still pending: the
          // state is then still "stable", where a rollback throws. Roll back only what exists,
          // and once more if our offer landed between the check and the remote description.
          if (offerCollision && pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" })
          try {
            await pc.setRemoteDescription(description)
          } catch (e) {
            if (description.type !== "offer" || pc.signalingState !== "have-local-offer") throw e
            await pc.setLocalDescription({ type: "rollback" })
            await pc.setRemoteDescription(description)
          }
          if (description.type === "offer") {
            await pc.setLocalDescription(await pc.createAnswer())
            this.sendDescription()
          }
        }).pipe(Effect.mapError((e) => `renegotiation failed: ${describeError(e)}`))
      } else {
        const { candidate, sdpMid, sdpMLineIndex } = message.candidate
        yield* Effect.tryPromise(() => pc.addIceCandidate({ candidate, sdpMid: sdpMid ?? null, sdpMLineIndex: sdpMLineIndex ?? null })).pipe(
          // A candidate of an offer we ignored is expected to fail.
          Effect.catchAll((e) => (this.ignoreOffer ? Effect.void : Effect.fail(`bad candidate: ${String(e)}`)))
        )
      }
    })
  }

  private sendDescription(): void {
    const local = this.ctx.pc.localDescription
    if (local !== null) this.ctx.sendControl(JSON.stringify({ description: { type: local.type, sdp: local.sdp } }))
  }
}

/** The browser's own error name and message, which `String()` of a wrapped rejection hides. */
const describeError = (e: unknown): string => {
  const cause = e instanceof Error && "error" in e ? (e as { error: unknown }).error : e
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
}
