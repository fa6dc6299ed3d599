/**
 * The mesh envelope: every type round-trips; hostile input (malformed JSON, unknown
 * types, wrong field types, missing fields, oversized frames, prototype keys)
 * decodes to an EnvelopeRejected with a reason and never throws; a frame whose
 * `from` is not the connection's peer is "spoofed-sender".
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  acceptFrame,
  decodeEnvelope,
  encodeEnvelope,
  EnvelopeRejected,
  exceedsUtf8,
  isAddressedTo,
  MAX_CANDIDATE_LENGTH,
  MAX_COMMITTED_IDS,
  MAX_ENVELOPE_BYTES,
  MAX_HANDOFF_MESSAGES,
  MAX_NEIGHBORS,
  MAX_SDP_LENGTH,
  type Envelope,
  type EnvelopeOf,
  type Recipient
} from "../../src/domain/envelope.js"
import { makePeerId, type PeerId } from "../../src/domain/identity.js"
import { MessageId } from "../../src/domain/message.js"
import { message } from "../support/fixtures.js"
import { arbJson, arbMessage, arbPeer, arbText } from "./arbitraries.js"

const alice = makePeerId("alice", "s1")
const bob = makePeerId("bob", "s1")
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length

const arbEnvelopeId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,32}$/)
const arbRecipient: fc.Arbitrary<Recipient | null> = fc.oneof(
  fc.constant(null),
  arbPeer.map((p): Recipient => ({ username: p.username })),
  arbPeer.map((p): Recipient => ({ username: p.username, sessionId: p.sessionId }))
)
const header = fc.record({
  id: arbEnvelopeId,
  from: arbPeer,
  to: arbRecipient,
  timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
})

const arbChat: fc.Arbitrary<Envelope> = fc
  .tuple(
    header,
    fc.oneof(
      arbMessage.map((m) => ({ _tag: "message" as const, message: m })),
      fc.array(arbMessage, { maxLength: 4 }).map((messages) => ({ _tag: "handoff" as const, messages })),
      fc
        .record({ ids: fc.array(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), { maxLength: 5 }), head: fc.string({ maxLength: 40 }) })
        .map(({ ids, head }) => ({ _tag: "committed" as const, ids: ids.map((i) => MessageId.make(i)), head }))
    )
  )
  .map(([h, payload]) => ({ v: 1 as const, type: "chat" as const, ...h, payload }))

const arbPresence: fc.Arbitrary<Envelope> = fc
  .tuple(
    header,
    fc.record(
      { _tag: fc.constant("heartbeat" as const), neighbors: fc.array(arbPeer, { maxLength: 5 }), leaving: fc.boolean() },
      { requiredKeys: ["_tag"] }
    )
  )
  .map(([h, payload]) => ({ v: 1 as const, type: "presence" as const, ...h, payload }))

const arbSignal: fc.Arbitrary<Envelope> = fc
  .tuple(
    header,
    arbPeer,
    arbPeer,
    fc.oneof(
      fc
        .record({ attempt: arbEnvelopeId, type: fc.constantFrom("offer" as const, "answer" as const), sdp: arbText })
        .map(({ attempt, type, sdp }) => ({ _tag: "description" as const, attempt, description: { type, sdp } })),
      fc.record({ attempt: arbEnvelopeId, candidate: arbText }).map((c) => ({ _tag: "candidate" as const, ...c })),
      fc.record({ call: fc.string({ maxLength: 20 }), data: arbJson }).map((c) => ({ _tag: "call" as const, ...c }))
    )
  )
  .map(([h, origin, target, body]) => ({ v: 1 as const, type: "signal" as const, ...h, payload: { ...body, origin, target } }))

const arbCustom: fc.Arbitrary<Envelope> = fc
  .tuple(header, fc.record({ name: fc.string({ maxLength: 30 }), data: arbJson }))
  .map(([h, payload]) => ({ v: 1 as const, type: "custom" as const, ...h, payload }))

const arbEnvelope: fc.Arbitrary<Envelope> = fc.oneof(arbChat, arbPresence, arbSignal, arbCustom)

const chatEnvelope = (from: PeerId = alice): EnvelopeOf<"chat"> => ({
  v: 1,
  id: "e1",
  type: "chat",
  from,
  to: null,
  timestamp: 1_700_000_000_000,
  payload: { _tag: "message", message: message("m1", 1_700_000_000_000, "hi 👋 你好") }
})
const customEnvelope = (data: unknown): Envelope => ({
  v: 1,
  id: "e2",
  type: "custom",
  from: alice,
  to: null,
  timestamp: 1,
  payload: { name: "x", data }
})
/** A valid envelope as plain JSON, to break one field at a time. */
const wire = (): Record<string, unknown> => JSON.parse(encodeEnvelope(chatEnvelope())) as Record<string, unknown>

/** The rejection, failing the test when the frame was accepted. */
const rejection = (raw: unknown): EnvelopeRejected => {
  const result = decodeEnvelope(raw)
  if (Either.isRight(result)) throw new Error(`accepted: ${String(raw).slice(0, 200)}`)
  expect(result.left).toBeInstanceOf(EnvelopeRejected)
  expect(result.left._tag).toBe("EnvelopeRejected")
  expect(result.left.detail.length).toBeGreaterThan(0)
  return result.left
}
const rejectedAs = (raw: unknown, reason: EnvelopeRejected["reason"]) => expect(rejection(raw).reason).toBe(reason)

describe("round trip", () => {
  it("decodes what it encodes, for one example of each type", () => {
    const examples: ReadonlyArray<Envelope> = [
      chatEnvelope(),
      { ...chatEnvelope(), payload: { _tag: "handoff", messages: [message("a", 1), message("b", 2, "😀")] } },
      { ...chatEnvelope(), payload: { _tag: "committed", ids: [MessageId.make("a")], head: "abc" } },
      { v: 1, id: "p", type: "presence", from: alice, to: null, timestamp: 5, payload: { _tag: "heartbeat", neighbors: [bob] } },
      { v: 1, id: "p", type: "presence", from: alice, to: null, timestamp: 5, payload: { _tag: "heartbeat", leaving: true } },
      {
        v: 1,
        id: "s",
        type: "signal",
        from: alice,
        to: { username: bob.username, sessionId: bob.sessionId },
        timestamp: 5,
        payload: { _tag: "description", origin: alice, target: bob, attempt: "a1", description: { type: "offer", sdp: "v=0" } }
      },
      customEnvelope({ nested: [1, "two", null, { three: true }] })
    ]
    for (const e of examples) expect(decodeEnvelope(encodeEnvelope(e))).toEqual(Either.right(e))
  })

  it.prop("decodes what it encodes, for every type", [arbEnvelope], ([e]) => {
    expect(decodeEnvelope(encodeEnvelope(e))).toEqual(Either.right(e))
  })
})

describe("hostile input", () => {
  it("rejects anything but text as malformed", () => {
    for (const raw of [null, undefined, 42, {}, [], new Uint8Array([123, 125]), chatEnvelope()]) rejectedAs(raw, "malformed")
  })

  it("rejects malformed JSON as malformed", () => {
    for (const raw of ["", " ", "{", "{\"v\":1,", "nul", "[1,2", "{'v':1}", "\u0000", "😀", encodeEnvelope(chatEnvelope()).slice(0, -1)]) {
      rejectedAs(raw, "malformed")
    }
  })

  it("rejects JSON that is not an object", () => {
    for (const raw of ["null", "1", "true", "\"chat\"", "[]", "[{\"type\":\"chat\"}]"]) rejectedAs(raw, "malformed")
  })

  it("rejects unknown types, including names inherited from Object.prototype", () => {
    for (const type of ["chatx", "CHAT", "", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", 1, null, ["chat"]]) {
      const r = rejection(JSON.stringify({ ...wire(), type }))
      expect(r.reason).toBe("malformed")
      expect(r.detail).toContain("unknown envelope type")
    }
    rejectedAs(JSON.stringify({ ...wire(), type: undefined }), "malformed")
  })

  it("rejects a missing field, whichever it is", () => {
    for (const key of Object.keys(wire())) {
      const broken = wire()
      delete broken[key]
      rejectedAs(JSON.stringify(broken), "malformed")
    }
    const noSession = wire()
    noSession.from = { username: "alice" }
    rejectedAs(JSON.stringify(noSession), "malformed")
  })

  it("rejects wrong field types and out-of-range values", () => {
    const m = (wire().payload as { message: Record<string, unknown> }).message
    const cases: ReadonlyArray<Record<string, unknown>> = [
      { v: 2 },
      { v: "1" },
      { id: "has space" },
      { id: "" },
      { id: 7 },
      { timestamp: -1 },
      { timestamp: 1.5 },
      { timestamp: "1" },
      { from: "alice/s1" },
      { from: { username: "-alice", sessionId: "s1" } },
      { from: { username: "alice", sessionId: "s/1" } },
      { to: "everyone" },
      { to: { sessionId: "s1" } },
      { payload: null },
      { payload: { _tag: "nope" } },
      { payload: { _tag: "message", message: { ...m, text: 5 } } },
      { payload: { _tag: "message", message: { ...m, text: "x".repeat(8_001) } } },
      { payload: { _tag: "message", message: { ...m, conversation: "../../etc" } } },
      { payload: { _tag: "handoff", messages: Array.from({ length: MAX_HANDOFF_MESSAGES + 1 }, () => m) } },
      { payload: { _tag: "committed", ids: Array.from({ length: MAX_COMMITTED_IDS + 1 }, (_, i) => `id${i}`), head: "h" } },
      { type: "presence", payload: { _tag: "heartbeat", neighbors: Array.from({ length: MAX_NEIGHBORS + 1 }, () => alice) } },
      { type: "presence", payload: { _tag: "heartbeat", leaving: "yes" } },
      {
        type: "signal",
        payload: { _tag: "description", origin: alice, target: bob, attempt: "a", description: { type: "offer", sdp: "x".repeat(MAX_SDP_LENGTH + 1) } }
      },
      { type: "signal", payload: { _tag: "description", origin: alice, target: bob, attempt: "a", description: { type: "pranswer", sdp: "" } } },
      { type: "signal", payload: { _tag: "candidate", origin: alice, target: bob, attempt: "a", candidate: "x".repeat(MAX_CANDIDATE_LENGTH + 1) } },
      { type: "custom", payload: { name: 5, data: null } },
      { type: "custom", payload: { name: "x".repeat(129), data: null } }
    ]
    for (const patch of cases) rejectedAs(JSON.stringify({ ...wire(), ...patch }), "malformed")
  })

  it("rejects prototype keys standing in for the envelope or its fields, and pollutes nothing", () => {
    rejectedAs(`{"__proto__": ${encodeEnvelope(chatEnvelope())}}`, "malformed")
    rejectedAs(`{"constructor": ${encodeEnvelope(chatEnvelope())}}`, "malformed")
    const fromProto = encodeEnvelope(chatEnvelope()).replace(
      `"from":{"username":"alice","sessionId":"s1"}`,
      `"from":{"__proto__":{"username":"alice","sessionId":"s1"}}`
    )
    expect(fromProto).toContain("__proto__")
    rejectedAs(fromProto, "malformed")
    rejectedAs(encodeEnvelope(chatEnvelope()).replace(`"to":null`, `"to":{"constructor":{"username":"bob"}}`), "malformed")
    // Application data may carry such keys as data; decoding must not touch any prototype.
    const raw = encodeEnvelope(customEnvelope(null)).replace(`"data":null`, `"data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`)
    decodeEnvelope(raw)
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
    expect((Object.prototype as unknown as Record<string, unknown>)["polluted"]).toBeUndefined()
  })

  it("keeps the rejection detail short even for a huge bad frame", () => {
    const r = rejection(JSON.stringify({ ...wire(), id: "x".repeat(500_000) }))
    expect(r.detail.length).toBeLessThanOrEqual(401)
  })
})

describe("size limit", () => {
  /** A valid custom envelope of exactly `bytes` UTF-8 bytes, padded with 3-byte characters. */
  const frameOfBytes = (bytes: number): string => {
    const empty = encodeEnvelope(customEnvelope(""))
    const room = bytes - utf8Bytes(empty)
    const frame = encodeEnvelope(customEnvelope("€".repeat(Math.floor(room / 3)) + "a".repeat(room % 3)))
    expect(utf8Bytes(frame)).toBe(bytes)
    return frame
  }

  it("accepts a frame of exactly MAX_ENVELOPE_BYTES and rejects one byte more as oversized", () => {
    expect(Either.isRight(decodeEnvelope(frameOfBytes(MAX_ENVELOPE_BYTES)))).toBe(true)
    const over = frameOfBytes(MAX_ENVELOPE_BYTES + 1)
    // Small in UTF-16 code units: only its UTF-8 size is over the limit.
    expect(over.length).toBeLessThan(MAX_ENVELOPE_BYTES / 2)
    rejectedAs(over, "oversized")
  })

  it("rejects multi-byte text that is small in UTF-16 units but large in bytes (emoji, CJK)", () => {
    const emoji = encodeEnvelope(customEnvelope("😀".repeat(270_000)))
    expect(emoji.length).toBeLessThan(MAX_ENVELOPE_BYTES)
    rejectedAs(emoji, "oversized")
    const cjk = encodeEnvelope(customEnvelope("漢".repeat(360_000)))
    expect(cjk.length).toBeLessThan(MAX_ENVELOPE_BYTES)
    rejectedAs(cjk, "oversized")
  })

  it("rejects a long ASCII frame and a long frame that is not even JSON as oversized", () => {
    rejectedAs(encodeEnvelope(customEnvelope("a".repeat(MAX_ENVELOPE_BYTES))), "oversized")
    rejectedAs("{".repeat(MAX_ENVELOPE_BYTES + 1), "oversized")
  })

  it.prop("exceedsUtf8 agrees with the real UTF-8 length", [fc.fullUnicodeString({ maxLength: 40 }), fc.nat({ max: 160 })], ([s, max]) => {
    expect(exceedsUtf8(s, max)).toBe(utf8Bytes(s) > max)
  })
})

describe("never throws", () => {
  const decodesOrRejects = (raw: unknown) => {
    const result = decodeEnvelope(raw)
    if (Either.isLeft(result)) {
      expect(["malformed", "oversized"]).toContain(result.left.reason)
      expect(result.left.detail.length).toBeGreaterThan(0)
    }
  }

  it.prop("on arbitrary strings", [fc.oneof(fc.string(), fc.fullUnicodeString(), fc.json())], ([s]) => decodesOrRejects(s))

  it.prop("on arbitrary JSON", [fc.jsonValue()], ([v]) => decodesOrRejects(JSON.stringify(v)))

  it.prop("on arbitrary values that are not text", [fc.anything()], ([v]) => decodesOrRejects(v))

  it.prop(
    "on objects with a known type and arbitrary fields",
    [fc.constantFrom("chat", "presence", "signal", "custom"), fc.dictionary(fc.constantFrom("v", "id", "from", "to", "timestamp", "payload", "__proto__", "constructor"), fc.jsonValue({ maxDepth: 2 }))],
    ([type, fields]) => decodesOrRejects(JSON.stringify({ ...fields, type }))
  )

  it.prop(
    "on a valid envelope with one field replaced by arbitrary JSON",
    [arbEnvelope, fc.jsonValue({ maxDepth: 2 }), fc.nat()],
    ([e, junk, pick]) => {
      const obj = JSON.parse(encodeEnvelope(e)) as Record<string, unknown>
      const targets: Array<Record<string, unknown>> = [obj, obj["payload"] as Record<string, unknown>, obj["from"] as Record<string, unknown>]
      const target = targets[pick % targets.length]!
      const keys = Object.keys(target)
      target[keys[pick % keys.length]!] = junk
      decodesOrRejects(JSON.stringify(obj))
    }
  )
})

describe("re-encoding what was decoded (a relay forwards envelopes)", () => {
  it.prop("whatever decodes encodes again to the same envelope", [fc.oneof(arbEnvelope.map((e) => JSON.parse(encodeEnvelope(e)) as unknown), fc.jsonValue())], ([v]) => {
    const result = decodeEnvelope(JSON.stringify(v))
    if (Either.isRight(result)) expect(decodeEnvelope(encodeEnvelope(result.right))).toEqual(result)
  })

  // Regression: `data` had no depth bound, so a ~200 KB frame of nested arrays decoded
  // and re-encoding it (a relay forwarding it) threw RangeError. Decoding now bounds the depth.
  it("a deeply nested custom payload is either rejected or can be encoded again", () => {
    const depth = 100_000
    const raw = encodeEnvelope(customEnvelope(null)).replace(`"data":null`, `"data":${"[".repeat(depth)}${"]".repeat(depth)}`)
    const result = decodeEnvelope(raw)
    if (Either.isRight(result)) expect(() => encodeEnvelope(result.right)).not.toThrow()
  })
})

describe("acceptFrame", () => {
  it("accepts a frame whose from is the connection's peer, login case aside", () => {
    expect(Either.isRight(acceptFrame(alice, encodeEnvelope(chatEnvelope(alice))))).toBe(true)
    expect(Either.isRight(acceptFrame(makePeerId("ALICE", "s1"), encodeEnvelope(chatEnvelope(alice))))).toBe(true)
  })

  it("rejects a frame claiming another sender as spoofed-sender, naming both", () => {
    const result = acceptFrame(bob, encodeEnvelope(chatEnvelope(alice)))
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left.reason).toBe("spoofed-sender")
      expect(result.left.detail).toContain("alice")
      expect(result.left.detail).toContain("bob")
    }
  })

  it("rejects another session of the same user as spoofed-sender", () => {
    const r = acceptFrame(makePeerId("alice", "s2"), encodeEnvelope(chatEnvelope(alice)))
    expect(Either.isLeft(r) && r.left.reason).toBe("spoofed-sender")
  })

  it("reports a bad frame as malformed or oversized before looking at its sender", () => {
    const malformed = acceptFrame(bob, "{")
    expect(Either.isLeft(malformed) && malformed.left.reason).toBe("malformed")
    const oversized = acceptFrame(bob, encodeEnvelope(customEnvelope("😀".repeat(270_000))))
    expect(Either.isLeft(oversized) && oversized.left.reason).toBe("oversized")
  })

  it.prop("accepts exactly the frames sent by the connection's peer", [arbEnvelope, arbPeer], ([e, connection]) => {
    const result = acceptFrame(connection, encodeEnvelope(e))
    const sameSender = e.from.username.toLowerCase() === connection.username.toLowerCase() && e.from.sessionId === connection.sessionId
    expect(Either.isRight(result)).toBe(sameSender)
    if (Either.isLeft(result)) expect(result.left.reason).toBe("spoofed-sender")
  })
})

describe("isAddressedTo", () => {
  it("addresses everyone with null, every session of a user by login, one session by login and session", () => {
    const aliceTab2 = makePeerId("Alice", "s2")
    expect(isAddressedTo(null, bob)).toBe(true)
    expect(isAddressedTo({ username: alice.username }, aliceTab2)).toBe(true)
    expect(isAddressedTo({ username: alice.username }, bob)).toBe(false)
    expect(isAddressedTo({ username: alice.username, sessionId: alice.sessionId }, alice)).toBe(true)
    expect(isAddressedTo({ username: alice.username, sessionId: alice.sessionId }, aliceTab2)).toBe(false)
  })
})
