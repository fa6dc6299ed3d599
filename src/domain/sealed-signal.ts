/**
 * Sealed signaling: what an offer, answer or call slot looks like on the presence channel
 * once it is encrypted to the session it is for. Pure shapes and bounds; the cryptography
 * (ECDH P-256 between the two sessions' published keys, AES-GCM) is behind the
 * `SignalSealer` port. The additional data binds a box to its sender, recipient, kind and
 * cleartext fields, so a box cannot be moved to another slot, re-dated or reflected.
 */
import { Schema } from "effect"
import { peerKey, type PeerId } from "./identity.js"

/** Characters of a base64url P-256 public key (65-byte uncompressed point). */
export const ENCRYPTION_KEY_CHARS = 87
/** Characters of a base64url AES-GCM nonce (12 bytes). */
export const SEAL_IV_CHARS = 16
/**
 * Largest ciphertext accepted, in base64url characters: an SDP up to MAX_SDP_LENGTH (64 KiB)
 * plus its JSON, at 4/3, with room to spare. Bad input is refused before any decryption.
 */
export const MAX_SEALED_CHARS = 96 * 1024
/** Version of the sealing scheme (key derivation, additional data). */
export const SEAL_VERSION = 1

/** A session's public encryption key, as its presence entry publishes it. */
export const EncryptionKey = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]+$/), Schema.length(ENCRYPTION_KEY_CHARS))

/** An encrypted payload: nonce and ciphertext (with its GCM tag), base64url. */
export const SealedBox = Schema.Struct({
  v: Schema.Literal(SEAL_VERSION),
  iv: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]+$/), Schema.length(SEAL_IV_CHARS)),
  ct: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]+$/), Schema.minLength(22), Schema.maxLength(MAX_SEALED_CHARS))
})
/** An encrypted payload. */
export type SealedBox = typeof SealedBox.Type

/** What a box seals: a connection description, or the signals of a call slot. */
export type SealedKind = "signal" | "call"

/**
 * The additional authenticated data of a box: who sent it to whom, what it is, and the
 * cleartext fields around it. Both sides compute it from the slot, so nothing in it can
 * be changed without the box failing to open.
 */
export const sealContext = (kind: SealedKind, from: PeerId, to: PeerId, fields: ReadonlyArray<string>): string =>
  [`skygit-seal-v${SEAL_VERSION}`, kind, peerKey(from), peerKey(to), ...fields].join("\n")
