/**
 * The MessageSigner on WebCrypto (`crypto.subtle`), the same code in browsers and Node 20:
 * ECDSA P-256 with SHA-256, a key pair made per session, signatures in IEEE P1363 form.
 */
import { Effect, Layer } from "effect"
import { MAX_SIGNATURE_CHARS, MAX_SIGNING_KEY_CHARS } from "../../domain/message-signature.js"
import { MessageSigner, SignError, type MessageSignerService } from "../../ports/MessageSigner.js"
import { fromBase64Url, toBase64Url } from "./base64url.js"

/** Public keys whose imported form is kept; past it the cache starts again (importing is cheap). */
export const MAX_CACHED_VERIFY_KEYS = 1_000

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const

const utf8 = new TextEncoder()

const attempt = <A>(what: string, run: () => Promise<A>): Effect.Effect<A, SignError> =>
  Effect.tryPromise({ try: run, catch: (e) => new SignError({ detail: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e }) })

/** Makes a signer with a fresh key pair (one per session). */
export const makeWebCryptoSigner = (subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Effect.Effect<MessageSignerService, SignError> =>
  Effect.gen(function* () {
    if (subtle === undefined) return yield* new SignError({ detail: "WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is needed" })
    const pair = yield* attempt("generating the session's signing key", () => subtle.generateKey(ALGORITHM, false, ["sign", "verify"]))
    const publicKey = toBase64Url(new Uint8Array(yield* attempt("exporting the signing key", () => subtle.exportKey("raw", pair.publicKey))))
    const imported = new Map<string, Promise<CryptoKey>>()
    const keyFor = (key: string): Promise<CryptoKey> => {
      let k = imported.get(key)
      if (k === undefined) {
        if (imported.size >= MAX_CACHED_VERIFY_KEYS) imported.clear()
        k = subtle.importKey("raw", fromBase64Url(key), ALGORITHM, false, ["verify"])
        // A bad key must not stay cached as a rejected promise.
        k.catch(() => imported.delete(key))
        imported.set(key, k)
      }
      return k
    }
    const service: MessageSignerService = {
      publicKey,
      sign: (text) =>
        Effect.map(attempt("signing", () => subtle.sign(SIGN, pair.privateKey, utf8.encode(text))), (sig) => toBase64Url(new Uint8Array(sig))),
      verify: (key, text, signature) =>
        key.length > MAX_SIGNING_KEY_CHARS || signature.length > MAX_SIGNATURE_CHARS
          ? Effect.succeed(false)
          : Effect.orElseSucceed(
              attempt("verifying", async () => subtle.verify(SIGN, await keyFor(key), fromBase64Url(signature), utf8.encode(text))),
              () => false
            )
    }
    return service
  })

/** The MessageSigner on the platform's WebCrypto, with a key pair made for this session. */
export const layerWebCryptoSigner: Layer.Layer<MessageSigner, SignError> = Layer.effect(MessageSigner, makeWebCryptoSigner())
