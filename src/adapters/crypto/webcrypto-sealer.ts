/**
 * The SignalSealer on WebCrypto (`crypto.subtle`), the same code in browsers and Node 20:
 * ECDH P-256 between this session's private key and the other session's public key,
 * HKDF-SHA-256 to an AES-256-GCM key (cached per peer), a random 96-bit nonce per box.
 */
import { Effect, Layer } from "effect"
import { SEAL_IV_CHARS, SEAL_VERSION, type SealedBox } from "../../domain/sealed-signal.js"
import { SealError, SignalSealer, type SignalSealerService } from "../../ports/SignalSealer.js"
import { fromBase64Url, toBase64Url } from "./base64url.js"

/** Peers whose derived key is kept; past it the cache starts again (a key is cheap to derive). */
export const MAX_CACHED_KEYS = 1_000
/** HKDF salt: ties derived keys to this scheme and version. */
const HKDF_SALT = new TextEncoder().encode(`skygit-seal-v${SEAL_VERSION}`)

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

const attempt = <A>(what: string, run: () => Promise<A>): Effect.Effect<A, SealError> =>
  Effect.tryPromise({ try: run, catch: (e) => new SealError({ detail: `${what}: ${e instanceof Error ? e.message : String(e)}`, cause: e }) })

/** Makes a sealer with a fresh key pair (one per session). */
export const makeWebCryptoSealer = (subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Effect.Effect<SignalSealerService, SealError> =>
  Effect.gen(function* () {
    if (subtle === undefined) return yield* new SealError({ detail: "WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is needed" })
    const pair = yield* attempt("generating the session's key", () => subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]))
    const publicKey = toBase64Url(new Uint8Array(yield* attempt("exporting the session's key", () => subtle.exportKey("raw", pair.publicKey))))
    const derived = new Map<string, Promise<CryptoKey>>()
    const keyFor = (peerKey: string): Effect.Effect<CryptoKey, SealError> =>
      attempt("deriving the pair's key", () => {
        let key = derived.get(peerKey)
        if (key === undefined) {
          if (derived.size >= MAX_CACHED_KEYS) derived.clear()
          key = (async () => {
            const remote = await subtle.importKey("raw", fromBase64Url(peerKey), { name: "ECDH", namedCurve: "P-256" }, false, [])
            const secret = await subtle.deriveBits({ name: "ECDH", public: remote }, pair.privateKey, 256)
            const hkdf = await subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"])
            return subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info: new Uint8Array(0) }, hkdf, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"])
          })()
          // A bad key must not stay cached as a rejected promise.
          key.catch(() => derived.delete(peerKey))
          derived.set(peerKey, key)
        }
        return key
      })
    const service: SignalSealerService = {
      publicKey,
      seal: (to, context, plaintext) =>
        Effect.gen(function* () {
          const key = yield* keyFor(to)
          const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
          const ct = yield* attempt("sealing", () => subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(context) }, key, utf8.encode(plaintext)))
          return { v: SEAL_VERSION, iv: toBase64Url(iv), ct: toBase64Url(new Uint8Array(ct)) } satisfies SealedBox
        }),
      open: (from, context, box) =>
        Effect.gen(function* () {
          if (box.iv.length !== SEAL_IV_CHARS) return yield* new SealError({ detail: "bad nonce" })
          const key = yield* keyFor(from)
          const plain = yield* attempt("opening (forged, altered or not for this session)", () =>
            subtle.decrypt({ name: "AES-GCM", iv: fromBase64Url(box.iv), additionalData: utf8.encode(context) }, key, fromBase64Url(box.ct))
          )
          return yield* Effect.try({ try: () => strictUtf8.decode(plain), catch: () => new SealError({ detail: "sealed text is not UTF-8" }) })
        })
    }
    return service
  })

/** The SignalSealer on the platform's WebCrypto, with a key pair made for this session. */
export const layerWebCrypto: Layer.Layer<SignalSealer, SealError> = Layer.effect(SignalSealer, makeWebCryptoSealer())
