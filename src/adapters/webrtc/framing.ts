/**
 * Wire framing on one data channel. An envelope whose UTF-8 text fits one frame
 * travels as a text frame; a larger one is cut into binary chunk frames and glued
 * back on arrival. Control frames (keepalive, in-band renegotiation) are binary too.
 * Pure: no channel, no clock; every limit is checked where bytes enter.
 */
import { Either } from "effect"
import { EnvelopeRejected, MAX_ENVELOPE_BYTES } from "../../domain/envelope.js"

/** Largest frame put on or taken off the channel: 16 KiB is what every WebRTC stack delivers unsplit. */
export const MAX_FRAME_BYTES = 16 * 1024
/** Bytes reserved for a chunk frame's text header: marker, message id, index, count, separators. */
export const CHUNK_HEADER_BYTES = 32
/** Payload bytes of one chunk frame. */
export const CHUNK_PAYLOAD_BYTES = MAX_FRAME_BYTES - CHUNK_HEADER_BYTES
/** Most chunks one message may have: enough for MAX_ENVELOPE_BYTES (a chunk may end short of a multi-byte character), no more. */
export const MAX_CHUNKS_PER_MESSAGE = Math.ceil(MAX_ENVELOPE_BYTES / (CHUNK_PAYLOAD_BYTES - 3))
/** Most partially received messages kept per peer; the sender serialises, so one is the norm. */
export const MAX_PENDING_MESSAGES = 4
/** First character of a chunk frame; no JSON text starts with it. */
export const CHUNK_MARKER = "\u0001"
/** Longest in-band negotiation frame (an SDP or a candidate, as JSON). */
export const MAX_CONTROL_BYTES = 70 * 1024

/** Binary frame kinds (first byte). Chunks are text: @roamhq/wrtc delivers text faster than binary. */
export const FrameKind = { Ping: 2, Negotiation: 3 } as const

/** One frame to put on the channel. */
export type OutFrame = string | Uint8Array<ArrayBuffer>

/** What a received frame amounts to. */
export type Received =
  | { readonly _tag: "Message"; readonly text: string }
  | { readonly _tag: "Partial" }
  | { readonly _tag: "Ping" }
  | { readonly _tag: "Negotiation"; readonly json: string }
  | { readonly _tag: "Rejected"; readonly error: EnvelopeRejected }

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

const malformed = (detail: string): Received => ({ _tag: "Rejected", error: new EnvelopeRejected({ reason: "malformed", detail }) })
const oversized = (detail: string): Received => ({ _tag: "Rejected", error: new EnvelopeRejected({ reason: "oversized", detail }) })

/** The keepalive frame. */
export const pingFrame = (): Uint8Array<ArrayBuffer> => Uint8Array.of(FrameKind.Ping)

/** An in-band negotiation frame carrying JSON, or `undefined` when it would exceed the limit. */
export const negotiationFrame = (json: string): Uint8Array<ArrayBuffer> | undefined => {
  const body = utf8.encode(json)
  if (body.length + 1 > MAX_CONTROL_BYTES) return undefined
  const frame = new Uint8Array(body.length + 1)
  frame[0] = FrameKind.Negotiation
  frame.set(body, 1)
  return frame
}

/** Cuts an encoded envelope into frames; `messageId` tells its chunks from another message's. */
export const encodeMessage = (text: string, messageId: number): Either.Either<ReadonlyArray<OutFrame>, string> => {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: short text needs no encoding to decide.
  if (text.length * 3 <= MAX_FRAME_BYTES) return Either.right([text])
  const pieces: Array<string> = []
  let bytes = 0
  for (let at = 0; at < text.length; ) {
    // encodeInto stops before a character that would not fit, and never splits a surrogate pair.
    let end = Math.min(text.length, at + CHUNK_PAYLOAD_BYTES)
    // Never hand encodeInto half a surrogate pair: it would encode U+FFFD in its place.
    if (end < text.length && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--
    const { read, written } = utf8.encodeInto(text.slice(at, end), scratch)
    pieces.push(text.slice(at, at + read))
    at += read
    bytes += written
    if (bytes > MAX_ENVELOPE_BYTES) return Either.left(`envelope larger than ${MAX_ENVELOPE_BYTES} bytes`)
  }
  if (pieces.length === 1) return Either.right([text])
  const id = messageId >>> 0
  return Either.right(pieces.map((piece, index) => `${CHUNK_MARKER}${id},${index},${pieces.length},${piece}`))
}

const scratch = new Uint8Array(CHUNK_PAYLOAD_BYTES)
const CHUNK_HEADER = /^\u0001(\d{1,10}),(\d{1,6}),(\d{1,6}),/

interface Partial {
  readonly count: number
  readonly parts: Array<string>
  /** UTF-16 units held; never more than the UTF-8 bytes they encode, so it bounds memory. */
  units: number
}

/** Reassembles frames from one peer; holds at most MAX_PENDING_MESSAGES partial messages. */
export class Reassembler {
  private readonly pending = new Map<number, Partial>()

  /** Number of partially received messages held. */
  get pendingCount(): number {
    return this.pending.size
  }

  /** Takes one frame as delivered by the channel (string or ArrayBuffer). */
  receive(data: unknown): Received {
    if (typeof data === "string") {
      // A whole envelope never needs more than one frame's worth of text; chunks exist for that.
      if (data.length > MAX_FRAME_BYTES || (data.length * 3 > MAX_FRAME_BYTES && utf8.encode(data).length > MAX_FRAME_BYTES)) {
        return oversized(`text frame larger than ${MAX_FRAME_BYTES} bytes`)
      }
      return data.startsWith(CHUNK_MARKER) ? this.chunk(data) : { _tag: "Message", text: data }
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined
    if (bytes === undefined) return malformed(`unexpected frame type ${typeof data}`)
    if (bytes.length === 0) return malformed("empty binary frame")
    if (bytes.length > MAX_CONTROL_BYTES) return oversized(`binary frame larger than ${MAX_CONTROL_BYTES} bytes`)
    switch (bytes[0]) {
      case FrameKind.Ping:
        return { _tag: "Ping" }
      case FrameKind.Negotiation:
        return this.decodeText(bytes.subarray(1), (json) => ({ _tag: "Negotiation", json }))
      default:
        return malformed(`unknown frame kind ${bytes[0]}`)
    }
  }

  private decodeText(bytes: Uint8Array, done: (text: string) => Received): Received {
    try {
      return done(strictUtf8.decode(bytes))
    } catch {
      return malformed("frame is not valid UTF-8")
    }
  }

  private chunk(frame: string): Received {
    const header = CHUNK_HEADER.exec(frame)
    if (header === null) return malformed("chunk frame with a bad header")
    const id = Number(header[1])
    const index = Number(header[2])
    const count = Number(header[3])
    if (count < 2 || count > MAX_CHUNKS_PER_MESSAGE) return oversized(`message of ${count} chunks`)
    let partial = this.pending.get(id)
    if (partial === undefined) {
      if (index !== 0) return malformed(`chunk ${index} of message ${id} without its start`)
      if (this.pending.size >= MAX_PENDING_MESSAGES) return oversized(`more than ${MAX_PENDING_MESSAGES} messages in flight`)
      partial = { count, parts: [], units: 0 }
      this.pending.set(id, partial)
    }
    // The channel is ordered and reliable, so a gap or a changed count means a broken sender.
    if (count !== partial.count || index !== partial.parts.length) {
      this.pending.delete(id)
      return malformed(`chunk ${index}/${count} of message ${id} out of order`)
    }
    const piece = frame.slice(header[0].length)
    partial.units += piece.length
    if (partial.units > MAX_ENVELOPE_BYTES) {
      this.pending.delete(id)
      return oversized(`message ${id} larger than ${MAX_ENVELOPE_BYTES} bytes`)
    }
    partial.parts.push(piece)
    if (partial.parts.length < count) return { _tag: "Partial" }
    this.pending.delete(id)
    return { _tag: "Message", text: partial.parts.join("") }
  }
}
