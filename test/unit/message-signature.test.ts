/** Message signatures: the canonical text that is signed, the author rule, and both signer adapters. */
import { describe, expect, it } from "vitest"
import { Effect, Either, Schema } from "effect"
import { makePeerId } from "../../src/domain/identity.js"
import { ConversationId, Message, MessageId } from "../../src/domain/message.js"
import { checkAuthor, signedText } from "../../src/domain/message-signature.js"
import { applyChange, decodeDocument, encodeDocument, holds, noChange, type PresenceEntry } from "../../src/domain/presence-doc.js"
import { MemorySigningKeys } from "../../src/adapters/memory/signer.js"
import { makeWebCryptoSigner } from "../../src/adapters/crypto/webcrypto-signer.js"

const message = (over: Partial<Message> = {}): Message => ({
  id: MessageId.make("m1-s1-1"),
  conversation: ConversationId.make("general"),
  author: makePeerId("alice", "s1").username,
  session: makePeerId("alice", "s1").sessionId,
  sentAt: 1_000,
  text: "hello",
  ...over
})
const alice = makePeerId("alice", "s1")
const aliceLater = makePeerId("Alice", "s9")
const bob = makePeerId("bob", "s2")

describe("signedText", () => {
  it("covers every field but the signature, whatever the key order", () => {
    const m = message()
    const reordered = JSON.parse(JSON.stringify({ text: m.text, sentAt: m.sentAt, session: m.session, author: m.author, conversation: m.conversation, id: m.id }))
    expect(signedText(reordered)).toBe(signedText(m))
    expect(signedText({ ...m, signature: "x".repeat(20) })).toBe(signedText(m))
    for (const change of [{ text: "hellO" }, { sentAt: 1_001 }, { conversation: ConversationId.make("other") }, { id: MessageId.make("m2") }]) {
      expect(signedText(message(change))).not.toBe(signedText(m))
    }
    expect(signedText(message({ author: bob.username }))).not.toBe(signedText(m))
    expect(signedText(message({ session: bob.sessionId }))).not.toBe(signedText(m))
  })

  it("cannot be shifted between fields (a JSON array, not a concatenation)", () => {
    expect(signedText(message({ text: "ab", conversation: ConversationId.make("c") }))).not.toBe(
      signedText(message({ text: "b", conversation: ConversationId.make("ca") }))
    )
  })
})

describe("checkAuthor", () => {
  it("takes a new message only from its author's session", () => {
    expect(checkAuthor(message(), alice, "direct")._tag).toBe("accept")
    expect(checkAuthor(message(), aliceLater, "direct")).toMatchObject({ _tag: "refuse", kind: "spoofed-author" })
    expect(checkAuthor(message({ signature: "s".repeat(20) }), bob, "direct")).toMatchObject({ _tag: "refuse", kind: "spoofed-author" })
  })

  it("takes a relayed message from its author's user, else only with a signature to verify", () => {
    expect(checkAuthor(message(), aliceLater, "handoff")._tag).toBe("accept")
    expect(checkAuthor(message(), bob, "handoff")).toMatchObject({ _tag: "refuse", kind: "relayed-author" })
    expect(checkAuthor(message(), bob, "catchup")).toMatchObject({ _tag: "refuse", kind: "relayed-author" })
    expect(checkAuthor(message({ signature: "s".repeat(20) }), bob, "catchup")).toEqual({ _tag: "verify", signature: "s".repeat(20) })
  })
})

describe("the Message schema", () => {
  it("reads older messages without a signature and keeps a signature through encode and decode", () => {
    const decode = Schema.decodeUnknownEither(Message)
    expect(Either.isRight(decode(message()))).toBe(true)
    const signed = { ...message(), signature: "A".repeat(86) }
    expect(Either.getOrThrow(decode(Schema.encodeSync(Message)(signed)))).toEqual(signed)
    expect(Either.isLeft(decode({ ...message(), signature: "not base64url!" }))).toBe(true)
    expect(Either.isLeft(decode({ ...message(), signature: "A".repeat(200) }))).toBe(true)
  })
})

describe("presence entries' signing key", () => {
  const entry = (over: Partial<PresenceEntry> = {}): PresenceEntry => ({ ...alice, lastSeen: 5_000, ...over })
  it("round-trips as signing_key, and a rewrite that did not know it never drops it", () => {
    const key = "k".repeat(87)
    const doc = applyChange({ entries: [], signals: [] }, { ...noChange, upsert: [entry({ signingKey: key })] }, 5_000)
    const text = encodeDocument(doc)
    expect(text).toContain(`"signing_key": "${key}"`)
    const read = Either.getOrThrow(decodeDocument(text)).document
    expect(read.entries[0]!.signingKey).toBe(key)
    const rewritten = applyChange(read, { ...noChange, upsert: [entry({ lastSeen: 6_000 })] }, 6_000)
    expect(rewritten.entries[0]).toMatchObject({ lastSeen: 6_000, signingKey: key })
    expect(holds(read, { ...noChange, upsert: [entry({ signingKey: "j".repeat(87) })] })).toBe(false)
  })
})

describe("the memory signer (simulator)", () => {
  it("is deterministic and synchronous, and no session can sign for another", () => {
    const world = new MemorySigningKeys()
    const a = world.signerFor("alice", "s1")
    const b = world.signerFor("bob", "s2")
    expect(new MemorySigningKeys().signerFor("alice", "s1").publicKey).toBe(a.publicKey)
    const text = signedText(message())
    const sig = Effect.runSync(a.sign(text))
    expect(Effect.runSync(b.verify(a.publicKey, text, sig))).toBe(true)
    expect(Effect.runSync(b.verify(a.publicKey, text + "!", sig))).toBe(false)
    expect(Effect.runSync(a.verify(b.publicKey, text, sig))).toBe(false)
    expect(Effect.runSync(a.verify(a.publicKey, text, Effect.runSync(b.sign(text))))).toBe(false)
    expect(Effect.runSync(a.verify("mk-unknown-key-000000", text, sig))).toBe(false)
    expect(Schema.is(Message)({ ...message(), signature: sig })).toBe(true)
  })
})

describe("the WebCrypto signer (ECDSA P-256)", () => {
  it("signs and verifies; another key, altered text, or garbage does not verify", async () => {
    const a = await Effect.runPromise(makeWebCryptoSigner())
    const b = await Effect.runPromise(makeWebCryptoSigner())
    const text = signedText(message())
    const sig = await Effect.runPromise(a.sign(text))
    expect(Schema.is(Message)({ ...message(), signature: sig })).toBe(true)
    expect(a.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/)
    expect(await Effect.runPromise(b.verify(a.publicKey, text, sig))).toBe(true)
    expect(await Effect.runPromise(b.verify(a.publicKey, text.replace("hello", "hellO"), sig))).toBe(false)
    expect(await Effect.runPromise(b.verify(b.publicKey, text, sig))).toBe(false)
    expect(await Effect.runPromise(b.verify("A".repeat(87), text, sig))).toBe(false)
    expect(await Effect.runPromise(b.verify(a.publicKey, text, "A".repeat(86)))).toBe(false)
  })
})
