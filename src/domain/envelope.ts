/**
 * The one envelope that travels over the mesh (seed §3):
 * `{type: chat|presence|signal|custom, from, to, timestamp, payload}` plus a
 * message id and a protocol version. Decoding never throws: malformed, unknown or
 * oversized input becomes an `EnvelopeRejected` with a reason.
 */
import { Data, Either, ParseResult, Schema } from "effect"
import { PeerId, samePeer, SessionId, Username } from "./identity.js"
import { ConversationId, Message, MessageId } from "./message.js"

/** Largest encoded envelope, in UTF-8 bytes. Transports chunk below this; nothing larger is decoded. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024
/** Most messages one handoff envelope may carry; larger queues are split. */
export const MAX_HANDOFF_MESSAGES = 500
/** Most message ids one commit notice may carry. */
export const MAX_COMMITTED_IDS = 5_000
/** Most message ids one "held" acknowledgement may carry. */
export const MAX_HELD_IDS = 1_000
/**
 * Most message ids a catch-up summary may list: the uncommitted window and recent
 * history, never the whole history. A longer window lists its newest ids only.
 */
export const MAX_SUMMARY_IDS = 2_000
/** Most neighbors one in-mesh heartbeat may list. */
export const MAX_NEIGHBORS = 256
/** Longest SDP accepted from a peer. */
export const MAX_SDP_LENGTH = 64 * 1024
/** Longest trickled ICE candidate accepted from a peer. */
export const MAX_CANDIDATE_LENGTH = 8 * 1024
/** Deepest nesting accepted in application data (custom and call payloads). */
export const MAX_DATA_DEPTH = 32
/** Longest reason text kept from a rejection. */
const MAX_REASON_LENGTH = 400

/** Nesting depth of a JSON value, counted without recursion (hostile input can be very deep). */
const depthOf = (value: unknown): number => {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (d > deepest) deepest = d
    if (deepest > MAX_DATA_DEPTH) return deepest
    if (typeof v === "object" && v !== null) for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return deepest
}

/** Application data: any JSON up to `MAX_DATA_DEPTH` deep, so that what decodes can be encoded again. */
const BoundedData = Schema.Unknown.pipe(
  Schema.filter((v) => depthOf(v) <= MAX_DATA_DEPTH, { message: () => `data nested deeper than ${MAX_DATA_DEPTH}` })
)

const EnvelopeId = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:-]{1,128}$/))
const Timestamp = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Whom an envelope is for: a user (all of its sessions) or one session; `null` is everyone. */
export const Recipient = Schema.Struct({ username: Username, sessionId: Schema.optional(SessionId) })
/** Whom an envelope is for. */
export type Recipient = typeof Recipient.Type

/**
 * Chat traffic: a new message, a non-leader's hand-off of what it holds uncommitted, a
 * leader's commit notice; an acknowledgement that a peer now holds messages (`held`); a
 * non-leader asking the leader to commit now (`saveNow`); catch-up when a link opens: each
 * side lists the ids it holds of its recent window (`summary`), the other sends what that
 * list lacks (`catchup`, bounded like a hand-off); and what is never committed: someone
 * typing in a conversation, and a new conversation announced to those online.
 */
export const ChatPayload = Schema.Union(
  Schema.TaggedStruct("message", { message: Message }),
  Schema.TaggedStruct("handoff", { messages: Schema.Array(Message).pipe(Schema.maxItems(MAX_HANDOFF_MESSAGES)) }),
  Schema.TaggedStruct("committed", {
    ids: Schema.Array(MessageId).pipe(Schema.maxItems(MAX_COMMITTED_IDS)),
    head: Schema.String.pipe(Schema.maxLength(128))
  }),
  Schema.TaggedStruct("typing", { conversation: ConversationId }),
  Schema.TaggedStruct("topic", { conversation: ConversationId }),
  Schema.TaggedStruct("held", { ids: Schema.Array(MessageId).pipe(Schema.maxItems(MAX_HELD_IDS)) }),
  Schema.TaggedStruct("saveNow", {}),
  Schema.TaggedStruct("summary", {
    /** The oldest author time the summary covers: messages older than it are not asked for. */
    since: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
    ids: Schema.Array(MessageId).pipe(Schema.maxItems(MAX_SUMMARY_IDS)),
    /**
     * Present when the sender wants the receiver's summary back: it came to hold messages after
     * the link opened (its history loaded late), and only the receiver's summary tells it what
     * the receiver lacks. Peers that do not know the field ignore it.
     */
    ask: Schema.optional(Schema.Literal(true))
  }),
  Schema.TaggedStruct("catchup", { messages: Schema.Array(Message).pipe(Schema.maxItems(MAX_HANDOFF_MESSAGES)) })
)
/** Chat traffic. */
export type ChatPayload = typeof ChatPayload.Type

/**
 * In-mesh presence: a heartbeat listing the sender's open connections. The list is
 * left out when it has not changed since the sender's last one (and sent in full
 * periodically), so a large mesh does not decode every neighbor list every beat.
 */
export const PresencePayload = Schema.Union(
  Schema.TaggedStruct("heartbeat", {
    neighbors: Schema.optional(Schema.Array(PeerId).pipe(Schema.maxItems(MAX_NEIGHBORS))),
    /** Present when the sender leaves on purpose, so others need not wait for expiry. */
    leaving: Schema.optional(Schema.Boolean),
    /** Present when the sender cannot push to the repository: it must not lead (issue 9). */
    readOnly: Schema.optional(Schema.Boolean),
    /**
     * Present when the sender acts as leader: a smaller successor in its component may take
     * over without waiting for the coverage grace, and the sender leads on until it hears
     * the successor lead.
     */
    leads: Schema.optional(Schema.Boolean)
  })
)
/** In-mesh presence. */
export type PresencePayload = typeof PresencePayload.Type

/** An SDP offer or answer. Non-trickle on first contact: candidates are inside the SDP. */
export const Description = Schema.Struct({
  type: Schema.Literal("offer", "answer"),
  sdp: Schema.String.pipe(Schema.maxLength(MAX_SDP_LENGTH))
})
/** An SDP offer or answer. */
export type Description = typeof Description.Type

/**
 * Signaling relayed through the mesh. `origin` made it and `target` must receive
 * it; a relaying peer forwards it unchanged, and the target checks the SDP's DTLS
 * fingerprint against the one `origin` published, so a relay cannot swap it.
 */
export const SignalPayload = Schema.Union(
  Schema.TaggedStruct("description", { origin: PeerId, target: PeerId, attempt: EnvelopeId, description: Description }),
  Schema.TaggedStruct("candidate", {
    origin: PeerId,
    target: PeerId,
    attempt: EnvelopeId,
    candidate: Schema.String.pipe(Schema.maxLength(MAX_CANDIDATE_LENGTH))
  }),
  Schema.TaggedStruct("call", {
    origin: PeerId,
    target: PeerId,
    call: Schema.String.pipe(Schema.maxLength(128)),
    data: BoundedData
  })
)
/** Signaling relayed through the mesh. */
export type SignalPayload = typeof SignalPayload.Type

/** Application-defined traffic: a name and any JSON. */
export const CustomPayload = Schema.Struct({ name: Schema.String.pipe(Schema.maxLength(128)), data: BoundedData })
/** Application-defined traffic. */
export type CustomPayload = typeof CustomPayload.Type

const envelopeOf = <T extends string, P extends Schema.Schema.Any>(type: T, payload: P) =>
  Schema.Struct({
    v: Schema.Literal(1),
    id: EnvelopeId,
    type: Schema.Literal(type),
    from: PeerId,
    to: Schema.NullOr(Recipient),
    timestamp: Timestamp,
    payload
  })

const byType = {
  chat: envelopeOf("chat", ChatPayload),
  presence: envelopeOf("presence", PresencePayload),
  signal: envelopeOf("signal", SignalPayload),
  custom: envelopeOf("custom", CustomPayload)
}

/** The mesh envelope, discriminated by `type`. */
export const Envelope = Schema.Union(byType.chat, byType.presence, byType.signal, byType.custom)
/** The mesh envelope. */
export type Envelope = typeof Envelope.Type
/** The envelope of one `type`. */
export type EnvelopeOf<T extends Envelope["type"]> = Extract<Envelope, { readonly type: T }>

/** Why an incoming frame was not accepted. */
export class EnvelopeRejected extends Data.TaggedError("EnvelopeRejected")<{
  readonly reason: "oversized" | "malformed" | "spoofed-sender"
  readonly detail: string
}> {}

const decoders = {
  chat: Schema.decodeUnknownEither(byType.chat),
  presence: Schema.decodeUnknownEither(byType.presence),
  signal: Schema.decodeUnknownEither(byType.signal),
  custom: Schema.decodeUnknownEither(byType.custom)
}
const utf8 = new TextEncoder()

const parseJson = (raw: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(raw))
  } catch (e) {
    return Either.left(e instanceof Error ? e.message : "invalid JSON")
  }
}

/** Whether a string's UTF-8 encoding exceeds `max` bytes (encodes only when the length alone cannot tell). */
export const exceedsUtf8 = (s: string, max: number): boolean =>
  s.length > max || (s.length * 3 > max && utf8.encode(s).length > max)

const clip = (s: string): string => (s.length > MAX_REASON_LENGTH ? `${s.slice(0, MAX_REASON_LENGTH)}…` : s)

/** Decodes one frame of text into an envelope, or says why not. */
export const decodeEnvelope = (raw: unknown): Either.Either<Envelope, EnvelopeRejected> => {
  if (typeof raw !== "string") {
    return Either.left(new EnvelopeRejected({ reason: "malformed", detail: `expected text, got ${typeof raw}` }))
  }
  if (exceedsUtf8(raw, MAX_ENVELOPE_BYTES)) {
    return Either.left(new EnvelopeRejected({ reason: "oversized", detail: `frame larger than ${MAX_ENVELOPE_BYTES} bytes` }))
  }
  const json = parseJson(raw)
  if (Either.isLeft(json)) return Either.left(new EnvelopeRejected({ reason: "malformed", detail: clip(`not JSON: ${json.left}`) }))
  // Dispatch on `type` first: one schema to run instead of a four-way union.
  const type = typeof json.right === "object" && json.right !== null ? (json.right as { type?: unknown }).type : undefined
  const decode = typeof type === "string" && Object.hasOwn(decoders, type) ? decoders[type as keyof typeof decoders] : undefined
  if (decode === undefined) {
    return Either.left(new EnvelopeRejected({ reason: "malformed", detail: clip(`unknown envelope type ${JSON.stringify(type)}`) }))
  }
  return Either.mapLeft(
    decode(json.right) as Either.Either<Envelope, ParseResult.ParseError>,
    (e) => new EnvelopeRejected({ reason: "malformed", detail: clip(ParseResult.TreeFormatter.formatErrorSync(e)) })
  )
}

/**
 * Checks a decoded envelope against the connection it arrived on: its `from` must be
 * `connectionPeer`, because a connection's identity is the peer it was established
 * with, not what the frame claims.
 */
export const checkSender = (connectionPeer: PeerId, env: Envelope): Either.Either<Envelope, EnvelopeRejected> =>
  samePeer(env.from, connectionPeer)
    ? Either.right(env)
    : Either.left(
        new EnvelopeRejected({
          reason: "spoofed-sender",
          detail: clip(`envelope from ${env.from.username}/${env.from.sessionId} arrived on the connection of ${connectionPeer.username}/${connectionPeer.sessionId}`)
        })
      )

/** Accepts a frame that arrived on the connection to `connectionPeer`: it must decode and pass `checkSender`. */
export const acceptFrame = (connectionPeer: PeerId, raw: unknown): Either.Either<Envelope, EnvelopeRejected> =>
  Either.flatMap(decodeEnvelope(raw), (env) => checkSender(connectionPeer, env))

/**
 * Encodes an envelope to the text that goes on the wire. The schema has no
 * transformations (its encoded form is its type), so plain JSON is exact.
 */
export const encodeEnvelope = (envelope: Envelope): string => JSON.stringify(envelope)

/** Whether `peer` is an addressee of an envelope sent `to`. */
export const isAddressedTo = (to: Recipient | null, peer: PeerId): boolean =>
  to === null ||
  (to.username.toLowerCase() === peer.username.toLowerCase() && (to.sessionId === undefined || to.sessionId === peer.sessionId))
