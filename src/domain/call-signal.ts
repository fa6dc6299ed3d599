/**
 * The call control messages peers exchange (invite, accept, reject, busy, hangup,
 * media state). They travel as `custom` envelopes named `call` on the direct data
 * channel, whose sender is authenticated by the transport, so they carry no origin.
 * With no channel open, control (not media state) also travels in presence call
 * slots (`call-slot.ts`). SDP and ICE for the media do not travel here: the
 * transport renegotiates in-band.
 */
import { Either, Schema } from "effect"
import { PeerId } from "./identity.js"

/** Name of the custom envelope that carries call control. */
export const CALL_ENVELOPE_NAME = "call"
/** Most participants of one call, the caller included: a mesh call sends every stream to everyone. */
export const MAX_CALL_PARTICIPANTS = 16

/** A call's id, chosen at random by its initiator. */
export const CallId = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,64}$/))
/** A call's id. */
export type CallId = typeof CallId.Type

/** What a call carries: voice only, or voice and camera. */
export const CallMedia = Schema.Literal("audio", "video")
/** What a call carries. */
export type CallMedia = typeof CallMedia.Type

/** One call control message. */
export const CallSignal = Schema.Union(
  Schema.TaggedStruct("invite", {
    call: CallId,
    media: CallMedia,
    /** Everyone in the call, the initiator included. */
    participants: Schema.Array(PeerId).pipe(Schema.minItems(2), Schema.maxItems(MAX_CALL_PARTICIPANTS))
  }),
  Schema.TaggedStruct("accept", { call: CallId }),
  Schema.TaggedStruct("reject", { call: CallId }),
  Schema.TaggedStruct("busy", { call: CallId }),
  Schema.TaggedStruct("hangup", { call: CallId }),
  Schema.TaggedStruct("media", { call: CallId, micMuted: Schema.Boolean, cameraOff: Schema.Boolean, screenSharing: Schema.Boolean })
)
/** One call control message. */
export type CallSignal = typeof CallSignal.Type

const decode = Schema.decodeUnknownEither(CallSignal)
const encode = Schema.encodeSync(CallSignal)

/** Decodes the data of a `call` envelope; `undefined` when it is not a call signal. */
export const decodeCallSignal = (data: unknown): CallSignal | undefined => Either.getOrUndefined(decode(data))

/** The JSON data of a `call` envelope. */
export const encodeCallSignal = (signal: CallSignal): unknown => encode(signal)
