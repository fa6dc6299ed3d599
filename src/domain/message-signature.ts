/**
 * Message signatures: every message is signed by its author session's signing key,
 * whose public half the session publishes in its presence entry. A peer then takes a
 * message relayed by someone else (a hand-off, catch-up) only when it can check that
 * the author's session made it. Pure: what is signed, and the rule that decides.
 */
import { Schema } from "effect"
import { sameUser, type PeerId } from "./identity.js"
import type { Message } from "./message.js"

/** Longest signing public key (base64url): a raw P-256 key is 87 characters. */
export const MAX_SIGNING_KEY_CHARS = 128
/** Longest signature (base64url): an ECDSA P-256 signature is 86 characters. */
export const MAX_SIGNATURE_CHARS = 128

/** A session's public signing key, as its presence entry publishes it. */
export const SigningKey = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]+$/), Schema.minLength(16), Schema.maxLength(MAX_SIGNING_KEY_CHARS))
/** A session's public signing key. */
export type SigningKey = typeof SigningKey.Type

/** A message's signature by its author session's key (base64url). */
export const MessageSignature = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]+$/), Schema.minLength(16), Schema.maxLength(MAX_SIGNATURE_CHARS))

/** Version tag of what is signed: a signature can never be taken for one of another scheme or kind. */
const SIGNED_TAG = "skygit-message-v1"

/**
 * What a message's signature covers: every field but the signature, in a fixed order,
 * as one JSON array (one text per message, whatever key order or copy it came in).
 */
export const signedText = (m: Message): string =>
  JSON.stringify([SIGNED_TAG, m.id, m.conversation, m.author, m.session, m.sentAt, m.text])

/** How a message arrived: from its own session (`direct`) or relayed by another. */
export type Arrival = "direct" | "handoff" | "catchup"

/** What is needed to take a message in, or why it is refused. */
export type AuthorCheck =
  | { readonly _tag: "accept" }
  | { readonly _tag: "verify"; readonly signature: string }
  | { readonly _tag: "refuse"; readonly kind: "spoofed-author" | "relayed-author"; readonly detail: string }

/**
 * The author rule. A new message comes from its author's session (the transport verified
 * the sender). A relayed one is taken from a session of the author's user (a restarted
 * device brings what its earlier session wrote), or else only with a signature, to be
 * checked against the key the author's session published.
 */
export const checkAuthor = (m: Message, from: PeerId, how: Arrival): AuthorCheck => {
  if (how === "direct") {
    return sameUser(m.author, from.username) && m.session === from.sessionId
      ? { _tag: "accept" }
      : { _tag: "refuse", kind: "spoofed-author", detail: `message ${m.id} claims author ${m.author}/${m.session}` }
  }
  if (sameUser(m.author, from.username)) return { _tag: "accept" }
  return m.signature === undefined
    ? { _tag: "refuse", kind: "relayed-author", detail: `${how} message ${m.id} of ${m.author}/${m.session} is unsigned` }
    : { _tag: "verify", signature: m.signature }
}
