/**
 * Wire framing, without a channel: what goes out for small and large envelopes,
 * that chunked text (cut inside multi-byte characters) comes back exact, and that
 * every broken or oversized frame is rejected with a reason.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { MAX_ENVELOPE_BYTES } from "../../src/domain/envelope.js"
import {
  chunkPayloadBytes,
  DEFAULT_FRAME_BYTES,
  encodeMessage,
  frameBytesFor,
  FrameKind,
  MAX_CHUNKS_PER_MESSAGE,
  MAX_FRAME_BYTES,
  MAX_PENDING_MESSAGES,
  MIN_FRAME_BYTES,
  Reassembler,
  type OutFrame,
  type Received
} from "../../src/adapters/webrtc/framing.js"
import { chunkFrame } from "./helpers.js"

const utf8 = new TextEncoder()

/** What the channel delivers for a frame: the string, or a fresh ArrayBuffer. */
const delivered = (frame: OutFrame): string | ArrayBuffer => (typeof frame === "string" ? frame : frame.slice().buffer)

const framesOf = (text: string, id = 1, frameBytes = DEFAULT_FRAME_BYTES): ReadonlyArray<OutFrame> =>
  Either.getOrThrow(encodeMessage(text, id, frameBytes))

/** Feeds the frames of `text` through a reassembler and returns what the last one amounted to. */
const roundTrip = (text: string, r = new Reassembler(), frameBytes = DEFAULT_FRAME_BYTES): Received => {
  const results = framesOf(text, 1, frameBytes).map((f) => r.receive(delivered(f)))
  expect(results.slice(0, -1).every((x) => x._tag === "Partial")).toBe(true)
  return results[results.length - 1]!
}

const reason = (r: Received) => (r._tag === "Rejected" ? r.error.reason : r._tag)

describe("framing, frame size", () => {
  it("follows the connection's maxMessageSize, capped, and is 16 KiB where it is unknown", () => {
    for (const unknown of [undefined, null, 0, -1, Number.NaN]) expect(frameBytesFor(unknown)).toBe(DEFAULT_FRAME_BYTES)
    // libwebrtc and Chromium negotiate 256 KiB; a remote without a limit says Infinity.
    expect(frameBytesFor(262_144)).toBe(MAX_FRAME_BYTES)
    expect(frameBytesFor(Number.POSITIVE_INFINITY)).toBe(MAX_FRAME_BYTES)
    expect(frameBytesFor(32_768)).toBe(32_768)
    expect(frameBytesFor(16_384.5)).toBe(16_384)
    expect(frameBytesFor(100)).toBe(MIN_FRAME_BYTES)
  })
})

describe("framing, sending", () => {
  it("a small envelope is one text frame, as is one whose UTF-8 just fits a frame", () => {
    expect(framesOf("{}")).toEqual(["{}"])
    const fits = "é".repeat(DEFAULT_FRAME_BYTES / 2)
    expect(framesOf(fits)).toEqual([fits])
    const fitsLarge = "é".repeat(MAX_FRAME_BYTES / 2)
    expect(framesOf(fitsLarge, 1, MAX_FRAME_BYTES)).toEqual([fitsLarge])
    expect(framesOf(fitsLarge).length).toBeGreaterThan(1)
  })

  it("text one byte over a frame is chunked, a multi-byte character at the edge included", () => {
    for (const frameBytes of [DEFAULT_FRAME_BYTES, MAX_FRAME_BYTES]) {
      const exact = "a".repeat(frameBytes - 4) + "🎉"
      expect(framesOf(exact, 1, frameBytes)).toEqual([exact])
      for (const over of ["a".repeat(frameBytes - 1) + "é", "a".repeat(frameBytes - 3) + "🎉", "a".repeat(frameBytes + 1)]) {
        const frames = framesOf(over, 1, frameBytes)
        expect(frames.length).toBe(2)
        expect(frames.every((f) => typeof f !== "string" && f.byteLength <= frameBytes)).toBe(true)
      }
    }
  })

  it("a larger envelope is binary chunk frames of at most the frame size", () => {
    const text = "x".repeat(64 * 1024 + 200)
    for (const frameBytes of [DEFAULT_FRAME_BYTES, MAX_FRAME_BYTES, MIN_FRAME_BYTES]) {
      const frames = framesOf(text, 1, frameBytes)
      expect(frames).toHaveLength(Math.ceil(text.length / chunkPayloadBytes(frameBytes)))
      for (const f of frames) {
        expect(typeof f).not.toBe("string")
        expect((f as Uint8Array).byteLength).toBeLessThanOrEqual(frameBytes)
        expect((f as Uint8Array)[0]).toBe(FrameKind.Chunk)
      }
      expect(roundTrip(text, new Reassembler(), frameBytes)).toEqual({ _tag: "Message", text })
    }
  })

  it("refuses text above MAX_ENVELOPE_BYTES of UTF-8 and takes exactly that much", () => {
    expect(Either.isRight(encodeMessage("x".repeat(MAX_ENVELOPE_BYTES), 1))).toBe(true)
    expect(Either.isLeft(encodeMessage("x".repeat(MAX_ENVELOPE_BYTES + 1), 1))).toBe(true)
    // Fewer UTF-16 units than the limit, more bytes.
    expect(Either.isLeft(encodeMessage("é".repeat(MAX_ENVELOPE_BYTES / 2 + 1), 1))).toBe(true)
  })
})

describe("framing, reassembly", () => {
  it("brings back chunked text exactly, with chunks cut inside multi-byte characters", () => {
    for (const unit of ["x", "é", "✓", "🚀", "a🚀é✓"]) {
      const text = unit.repeat(Math.ceil(200_000 / utf8.encode(unit).length))
      const r = new Reassembler()
      expect(roundTrip(text, r)).toEqual({ _tag: "Message", text })
      expect(r.pendingCount).toBe(0)
    }
  })

  it("brings back the largest envelope, at every frame size", () => {
    const text = "🚀".repeat(MAX_ENVELOPE_BYTES / 4)
    for (const frameBytes of [MIN_FRAME_BYTES, DEFAULT_FRAME_BYTES, MAX_FRAME_BYTES]) {
      expect(roundTrip(text, new Reassembler(), frameBytes)).toEqual({ _tag: "Message", text })
    }
  })

  it("keeps messages apart by id while interleaved", () => {
    const r = new Reassembler()
    const a = framesOf("a".repeat(40_000), 1)
    const b = framesOf("b".repeat(40_000), 2)
    const out: Array<Received> = []
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== undefined) out.push(r.receive(delivered(a[i]!)))
      if (b[i] !== undefined) out.push(r.receive(delivered(b[i]!)))
    }
    expect(out.filter((x) => x._tag === "Message").map((x) => (x as { text: string }).text.length)).toEqual([40_000, 40_000])
  })

  it("rejects a text frame above MAX_FRAME_BYTES of UTF-8, even when its length is below", () => {
    const r = new Reassembler()
    expect(reason(r.receive("y".repeat(MAX_FRAME_BYTES + 1)))).toBe("oversized")
    expect(reason(r.receive("é".repeat(MAX_FRAME_BYTES / 2 + 1)))).toBe("oversized")
    expect(reason(r.receive("é".repeat(MAX_FRAME_BYTES / 2)))).toBe("Message")
  })

  it("rejects broken chunks with a reason", () => {
    const r = new Reassembler()
    const chunk = (id: number, index: number, count: number, payload: string | Uint8Array = "{") => reason(r.receive(chunkFrame(id, index, count, payload).buffer))
    expect(chunk(7, 3, 4)).toBe("malformed") // no start
    expect(chunk(7, 0, 1)).toBe("malformed") // a one-chunk message is a text frame
    expect(chunk(7, 0, MAX_CHUNKS_PER_MESSAGE + 1)).toBe("oversized")
    expect(reason(r.receive(Uint8Array.of(FrameKind.Chunk, 0, 0).buffer))).toBe("malformed") // shorter than its header
    expect(reason(r.receive(chunkFrame(8, 0, 2, new Uint8Array(MAX_FRAME_BYTES)).buffer))).toBe("oversized")
    // A frame of the largest size is taken, whatever size this side sends with.
    expect(reason(r.receive(chunkFrame(10, 0, 2, new Uint8Array(chunkPayloadBytes(MAX_FRAME_BYTES))).buffer))).toBe("Partial")
    r.receive(chunkFrame(10, 1, 2, "{").buffer)
    expect(chunk(9, 0, 3)).toBe("Partial")
    expect(chunk(9, 2, 3)).toBe("malformed") // gap: the message is dropped
    expect(r.pendingCount).toBe(0)
    expect(chunk(9, 1, 3)).toBe("malformed")
  })

  it("rejects chunks that decode to invalid UTF-8", () => {
    const r = new Reassembler()
    expect(reason(r.receive(chunkFrame(1, 0, 2, Uint8Array.of(0x7b, 0xf0, 0x9f)).buffer))).toBe("Partial")
    expect(reason(r.receive(chunkFrame(1, 1, 2, Uint8Array.of(0x7d)).buffer))).toBe("malformed")
  })

  it("holds at most MAX_PENDING_MESSAGES partial messages and bounds a message's bytes", () => {
    const r = new Reassembler()
    for (let id = 0; id < MAX_PENDING_MESSAGES; id++) expect(reason(r.receive(chunkFrame(id, 0, 2, "{").buffer))).toBe("Partial")
    expect(reason(r.receive(chunkFrame(99, 0, 2, "{").buffer))).toBe("oversized")
    expect(r.pendingCount).toBe(MAX_PENDING_MESSAGES)

    const big = new Reassembler()
    const full = new Uint8Array(chunkPayloadBytes(MAX_FRAME_BYTES)).fill(0x78)
    const within = Math.floor(MAX_ENVELOPE_BYTES / full.length)
    const results = Array.from({ length: within + 1 }, (_, i) => reason(big.receive(chunkFrame(5, i, MAX_CHUNKS_PER_MESSAGE, full).buffer)))
    expect(results.slice(0, within).every((x) => x === "Partial")).toBe(true)
    expect(results[within]).toBe("oversized")
    expect(big.pendingCount).toBe(0)
  })
})
