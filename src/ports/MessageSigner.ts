/**
 * MessageSigner port: signs this session's messages and checks others' signatures.
 * Each session holds a signing key pair and publishes the public key in its presence
 * entry, so a message relayed by anyone can be checked as made by its author's session.
 */
import { Context, Schema, type Effect } from "effect"
import { withCause } from "./errors.js"

/** A message could not be signed (no crypto, a failed key). */
export class SignError extends Schema.TaggedError<SignError>()("SignError", withCause) {}

/** This session's signing key. */
export interface MessageSignerService {
  /** This session's public key (base64url, `SigningKey`), for its presence entry. */
  readonly publicKey: string
  /** Signs `text` (base64url `MessageSignature`). */
  readonly sign: (text: string) => Effect.Effect<string, SignError>
  /** Whether `signature` of `text` was made with the private half of `publicKey` (false for any bad input). */
  readonly verify: (publicKey: string, text: string, signature: string) => Effect.Effect<boolean>
}

/** The message signer service. */
export class MessageSigner extends Context.Tag("skygit/MessageSigner")<MessageSigner, MessageSignerService>() {}
