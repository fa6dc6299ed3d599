/**
 * A MessageSigner model for the simulator, which runs in virtual time: everything is
 * synchronous and deterministic (an async WebCrypto promise would let the clock jump).
 * A registry of the simulated world maps each public key to its secret; a signature is a
 * keyed hash of the text. A peer learns only public keys (from presence), so, as with a
 * real key pair, no peer can sign for another session. Not cryptography: a model of it.
 */
import { Effect } from "effect"
import type { MessageSignerService } from "../../ports/MessageSigner.js"

/** 64-bit FNV-1a over the UTF-16 code units of `text`, as 16 hex digits. */
const fnv64 = (text: string): string => {
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i))
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return h.toString(16).padStart(16, "0")
}

/** The simulated world's record of every signing key pair made in it (one per harness run). */
export class MemorySigningKeys {
  private readonly secrets = new Map<string, string>()

  /** A signer for one session; the same (user, session) gets the same key, so runs are reproducible. */
  signerFor(username: string, sessionId: string): MessageSignerService {
    const secret = `${fnv64(`secret:${username.toLowerCase()}/${sessionId}`)}${fnv64(`salt:${sessionId}`)}`
    const publicKey = `mk${fnv64(`public:${secret}`)}${fnv64(`public2:${secret}`)}`
    this.secrets.set(publicKey, secret)
    const mac = (key: string, text: string) => `ms${fnv64(`${key}\n${text}`)}${fnv64(`${text}\n${key}`)}`
    return {
      publicKey,
      sign: (text) => Effect.sync(() => mac(secret, text)),
      verify: (key, text, signature) =>
        Effect.sync(() => {
          const s = this.secrets.get(key)
          return s !== undefined && mac(s, text) === signature
        })
    }
  }
}
