/**
 * Wire framing on one data channel. An envelope whose UTF-8 text fits one frame
 * travels as a text frame; a larger one is encoded to UTF-8 once, cut into binary
 * chunk frames, and decoded once when all its chunks are in. Control frames
 * (keepalive, in-band renegotiation) are binary too.
 * Pure: no channel, no clock; every limit is checked where bytes enter.
 */
import { Either } from "effect"
import { EnvelopeRejected, MAX_ENVELOPE_BYTES } from "../../domain/envelope.js"

/**
 * Largest frame put on or taken off the channel. Connections negotiate 256 KiB (libwebrtc,
 * Chromium); 64 KiB frames already carry about what larger ones do (docs/benchmarks.md,
 * Issue 10), and a smaller cap keeps keepalives and small messages from queueing behind one
 * huge frame, and bounds what one frame from a peer may make us hold.
 */
export const MAX_FRAME_BYTES = 64 * 1024
/** Frame size where the connection's `maxMessageSize` is unknown: what every WebRTC stack delivers unsplit. */
export const DEFAULT_FRAME_BYTES = 16 * 1024
/** Smallest frame size used: below it the chunk header and per-frame cost dominate. */
export const MIN_FRAME_BYTES = 1024
/** Bytes of a chunk frame's header: kind (1), message id (u32), chunk index (u16), chunk count (u16), big-endian. */
export const CHUNK_HEADER_BYTES = 9
/** Payload bytes of one chunk frame of `frameBytes`. */
export const chunkPayloadBytes = (frameBytes: number): number => frameBytes - CHUNK_HEADER_BYTES
/** Most chunks one message may have: enough for MAX_ENVELOPE_BYTES at the smallest frame size, no more. */
export const MAX_CHUNKS_PER_MESSAGE = Math.ceil(MAX_ENVELOPE_BYTES / chunkPayloadBytes(MIN_FRAME_BYTES))

/**
 * The frame size to send with on a connection whose SCTP transport reports `maxMessageSize`
 * (`RTCSctpTransport.maxMessageSize`: what the remote side accepts in one message), capped at
 * MAX_FRAME_BYTES; DEFAULT_FRAME_BYTES when the platform does not say (no `sctp`, 0, NaN).
 */
export const frameBytesFor = (maxMessageSize: number | null | undefined): number => {
  if (maxMessageSize === null || maxMessageSize === undefined || Number.isNaN(maxMessageSize) || maxMessageSize <= 0) return DEFAULT_FRAME_BYTES
  // Infinity (the remote set no limit) takes the cap too.
  return Math.max(MIN_FRAME_BYTES, Math.min(MAX_FRAME_BYTES, Math.floor(maxMessageSize)))
}
/** Most partially received messages kept per peer; the sender serialises, so one is the norm. */
export const MAX_PENDING_MESSAGES = 4
/** Longest in-band negotiation frame (an SDP or a candidate, as JSON). */
export const MAX_CONTROL_BYTES = 70 * 1024

/**
 * Binary frame kinds (first byte). Chunks are binary: the text is encoded once on
 * the sender and decoded once on the receiver, where text chunks cost a UTF-8
 * conversion per frame in the native layer on both sides plus a size check here
 * (see docs/benchmarks.md, Network).
 */
export const FrameKind = { Ping: 2, Negotiation: 3, Chunk: 4 } as const

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

/**
 * Cuts an encoded envelope into frames of at most `frameBytes` (see `frameBytesFor`);
 * `messageId` tells its chunks from another message's.
 */
export const encodeMessage = (text: string, messageId: number, frameBytes: number = DEFAULT_FRAME_BYTES): Either.Either<ReadonlyArray<OutFrame>, string> => {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: short text needs no encoding to decide.
  if (text.length * 3 <= frameBytes) return Either.right([text])
  // Nor does text whose UTF-16 length alone passes the limit (every unit is at least one byte).
  if (text.length > MAX_ENVELOPE_BYTES) return Either.left(`envelope larger than ${MAX_ENVELOPE_BYTES} bytes`)
  // Whether it fits one frame, told without a copy: encodeInto stops where a frame-sized scratch is
  // full (a bulk sender fills every frame, and encoding each one whole allocated a frame per send).
  if (text.length <= frameBytes && frameBytes <= MAX_FRAME_BYTES && utf8.encodeInto(text, frameScratch.subarray(0, frameBytes)).read === text.length) {
    return Either.right([text])
  }
  const bytes = utf8.encode(text)
  if (bytes.length <= frameBytes) return Either.right([text])
  if (bytes.length > MAX_ENVELOPE_BYTES) return Either.left(`envelope larger than ${MAX_ENVELOPE_BYTES} bytes`)
  const payloadBytes = chunkPayloadBytes(frameBytes)
  const count = Math.ceil(bytes.length / payloadBytes)
  const frames: Array<OutFrame> = []
  for (let index = 0; index < count; index++) {
    // Chunks cut at byte offsets, even inside a character: the receiver decodes the whole message, not a chunk.
    const payload = bytes.subarray(index * payloadBytes, (index + 1) * payloadBytes)
    const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.length)
    const header = new DataView(frame.buffer)
    header.setUint8(0, FrameKind.Chunk)
    header.setUint32(1, messageId >>> 0)
    header.setUint16(5, index)
    header.setUint16(7, count)
    frame.set(payload, CHUNK_HEADER_BYTES)
    frames.push(frame)
  }
  return Either.right(frames)
}

interface Partial {
  readonly count: number
  /** Payloads received so far, in order (views of the frames the channel delivered). */
  readonly parts: Array<Uint8Array>
  bytes: number
}

/**
 * Reassembles frames from one peer; holds at most MAX_PENDING_MESSAGES partial messages.
 * It accepts frames up to MAX_FRAME_BYTES whatever size the peer sends with: each side picks
 * its own from what the other accepts.
 */
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
      // encodeInto stops where the frame-sized scratch is full: a size check that allocates nothing.
      if (data.length > MAX_FRAME_BYTES || (data.length * 3 > MAX_FRAME_BYTES && utf8.encodeInto(data, frameScratch).read < data.length)) {
        return oversized(`text frame larger than ${MAX_FRAME_BYTES} bytes`)
      }
      return { _tag: "Message", text: data }
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
      case FrameKind.Chunk:
        return this.chunk(bytes)
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

  private chunk(frame: Uint8Array): Received {
    if (frame.length > MAX_FRAME_BYTES) return oversized(`chunk frame larger than ${MAX_FRAME_BYTES} bytes`)
    if (frame.length < CHUNK_HEADER_BYTES) return malformed("chunk frame shorter than its header")
    const header = new DataView(frame.buffer, frame.byteOffset, CHUNK_HEADER_BYTES)
    const id = header.getUint32(1)
    const index = header.getUint16(5)
    const count = header.getUint16(7)
    if (count < 2) return malformed(`message of ${count} chunks`)
    if (count > MAX_CHUNKS_PER_MESSAGE) return oversized(`message of ${count} chunks`)
    let partial = this.pending.get(id)
    if (partial === undefined) {
      if (index !== 0) return malformed(`chunk ${index} of message ${id} without its start`)
      if (this.pending.size >= MAX_PENDING_MESSAGES) return oversized(`more than ${MAX_PENDING_MESSAGES} messages in flight`)
      partial = { count, parts: [], bytes: 0 }
      this.pending.set(id, partial)
    }
    // The channel is ordered and reliable, so a gap or a changed count means a broken sender.
    if (count !== partial.count || index !== partial.parts.length) {
      this.pending.delete(id)
      return malformed(`chunk ${index}/${count} of message ${id} out of order`)
    }
    const piece = frame.subarray(CHUNK_HEADER_BYTES)
    partial.bytes += piece.length
    if (partial.bytes > MAX_ENVELOPE_BYTES) {
      this.pending.delete(id)
      return oversized(`message ${id} larger than ${MAX_ENVELOPE_BYTES} bytes`)
    }
    partial.parts.push(piece)
    if (partial.parts.length < count) return { _tag: "Partial" }
    this.pending.delete(id)
    const whole = new Uint8Array(partial.bytes)
    let at = 0
    for (const part of partial.parts) {
      whole.set(part, at)
      at += part.length
    }
    return this.decodeText(whole, (text) => ({ _tag: "Message", text }))
  }
}

/** Scratch of one frame's size, for the allocation-free size check of text frames. */
const frameScratch = new Uint8Array(MAX_FRAME_BYTES)
