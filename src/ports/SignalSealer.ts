/**
 * SignalSealer port: encrypts signaling to one session and authenticates it as from this
 * one. Each session holds an ECDH P-256 key pair and publishes the public key in its
 * presence entry; a box sealed from A to B opens only with B's private key and A's public
 * key (static-static ECDH), so neither a relay nor another writer of the repository can
 * read, forge or swap one.
 */
import { Context, Schema, type Effect } from "effect"
import { withCause } from "./errors.js"
import type { SealedBox } from "../domain/sealed-signal.js"

/** A box could not be sealed or opened: a bad key, a forged or altered box, or no crypto. */
export class SealError extends Schema.TaggedError<SealError>()("SealError", withCause) {}

/** This session's sealing keys. */
export interface SignalSealerService {
  /** This session's public key (base64url, `EncryptionKey`), for its presence entry. */
  readonly publicKey: string
  /** Encrypts `plaintext` to the holder of `to`, binding `context` (see `sealContext`). */
  readonly seal: (to: string, context: string, plaintext: string) => Effect.Effect<SealedBox, SealError>
  /** Decrypts a box that the holder of `from` sealed to this session under `context`. */
  readonly open: (from: string, context: string, box: SealedBox) => Effect.Effect<string, SealError>
}

/** The signal sealer service. */
export class SignalSealer extends Context.Tag("skygit/SignalSealer")<SignalSealer, SignalSealerService>() {}
