/**
 * The session's DTLS identity and the check every incoming SDP goes through.
 *
 * Where the platform can pin a certificate (`RTCPeerConnection.generateCertificate`,
 * browsers) the session fingerprint is that certificate's DTLS fingerprint. Where it
 * cannot (@roamhq/wrtc ignores `certificates` and makes a new key per connection) the
 * session holds an ECDSA identity key instead: its fingerprint has the same text form,
 * and every SDP we produce carries a signed binding of its per-connection DTLS
 * fingerprint to that key. Either way a relay cannot swap an SDP without the private
 * key behind the fingerprint the peer published.
 */
import { Effect, Option } from "effect"
import { MAX_CANDIDATE_LENGTH, MAX_SDP_LENGTH } from "../../domain/envelope.js"

/** Most `a=candidate` lines accepted in one SDP: a host has few interfaces, relays add a handful. */
export const MAX_SDP_CANDIDATES = 64
/** Longest line accepted in an SDP other than candidates (certificates fingerprints, bindings). */
export const MAX_SDP_LINE_LENGTH = 1024
/** SDP attribute carrying the signed binding of a connection's DTLS fingerprint to the session key. */
export const BINDING_ATTRIBUTE = "x-skygit-binding"
/** What the binding signature covers, before the DTLS fingerprint, so it signs nothing else. */
const BINDING_CONTEXT = "skygit-dtls-binding:v1:"
const SIGN_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const

/** Canonical text of a fingerprint: lower-case algorithm, upper-case colon-separated hex. */
export const normalizeFingerprint = (fp: string): string => {
  const [algorithm = "", value = ""] = fp.trim().split(/\s+/)
  return `${algorithm.toLowerCase()} ${value.toUpperCase()}`
}

/** Why an SDP is not acceptable, or `undefined` when it is structurally sound. */
export const sdpProblem = (sdp: string, expectedType: "offer" | "answer", actualType: string): string | undefined => {
  if (actualType !== expectedType) return `expected an ${expectedType}, got ${actualType}`
  if (sdp.length > MAX_SDP_LENGTH) return `SDP longer than ${MAX_SDP_LENGTH}`
  if (!sdp.startsWith("v=0")) return "SDP does not start with v=0"
  let candidates = 0
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("a=candidate:")) {
      candidates++
      if (line.length > MAX_CANDIDATE_LENGTH) return "candidate line too long"
    } else if (line.length > MAX_SDP_LINE_LENGTH) return "SDP line too long"
  }
  if (candidates > MAX_SDP_CANDIDATES) return `more than ${MAX_SDP_CANDIDATES} candidates`
  if (dtlsFingerprint(sdp) === undefined) return "no single a=fingerprint"
  return undefined
}

/** The one DTLS fingerprint an SDP presents (normalized), or `undefined` when absent or inconsistent. */
export const dtlsFingerprint = (sdp: string): string | undefined => {
  const found = new Set<string>()
  for (const m of sdp.matchAll(/^a=fingerprint:(.+)$/gm)) found.add(normalizeFingerprint(m[1] ?? ""))
  // Several distinct fingerprints would let a forged section ride along a genuine one.
  return found.size === 1 ? [...found][0] : undefined
}

const hex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":")
// btoa/atob rather than Buffer: this file also runs in browsers.
const b64 = (bytes: ArrayBuffer): string => btoa(String.fromCharCode(...new Uint8Array(bytes)))
const unb64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0))
const utf8 = new TextEncoder()

/** The session's identity: what it publishes, what its connections use, and how its SDPs are checked. */
export interface SessionIdentity {
  /** Published in presence; compared with what a remote SDP proves. */
  readonly fingerprint: string
  /** Certificates for `RTCConfiguration.certificates` (empty where the platform ignores them). */
  readonly certificates: ReadonlyArray<RTCCertificate>
  /** Adds this session's proof of identity to an SDP we produce. */
  readonly decorate: (sdp: string) => Effect.Effect<string>
}

/** Whether `sdp` proves the identity `expected`: its DTLS fingerprint is it, or a valid binding signs it. */
export const provesFingerprint = (sdp: string, expected: string): Effect.Effect<boolean> => {
  const dtls = dtlsFingerprint(sdp)
  if (dtls === undefined) return Effect.succeed(false)
  const want = normalizeFingerprint(expected)
  if (dtls === want) return Effect.succeed(true)
  const binding = sdp.match(new RegExp(`^a=${BINDING_ATTRIBUTE}:([A-Za-z0-9+/=]{1,400}) ([A-Za-z0-9+/=]{1,400})\\r?$`, "m"))
  if (binding === null) return Effect.succeed(false)
  return Effect.tryPromise(async () => {
    const spki = unb64(binding[1] ?? "")
    const signature = unb64(binding[2] ?? "")
    if (`sha-256 ${hex(await crypto.subtle.digest("SHA-256", spki))}` !== want) return false
    const key = await crypto.subtle.importKey("spki", spki, KEY_ALGORITHM, false, ["verify"])
    return crypto.subtle.verify(SIGN_ALGORITHM, key, signature, utf8.encode(BINDING_CONTEXT + dtls))
  }).pipe(Effect.orElseSucceed(() => false))
}

/** Checks an SDP against the fingerprint published for its sender, when one was published. */
export const checkFingerprint = (sdp: string, expected: Option.Option<string>): Effect.Effect<boolean> =>
  Option.match(expected, { onNone: () => Effect.succeed(true), onSome: (fp) => provesFingerprint(sdp, fp) })

/** Inserts a session-level attribute line before the first media section. */
const withSessionAttribute = (sdp: string, line: string): string => {
  const at = sdp.search(/^m=/m)
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n"
  return at < 0 ? `${sdp}${line}${eol}` : `${sdp.slice(0, at)}${line}${eol}${sdp.slice(at)}`
}

/** A session identity pinned to one RTCCertificate (platforms that honour `certificates`). */
export const certificateIdentity = (certificate: RTCCertificate): Effect.Effect<SessionIdentity, Error> =>
  Effect.gen(function* () {
    const sha = certificate.getFingerprints().find((f) => f.algorithm?.toLowerCase() === "sha-256")
    if (sha?.value === undefined) return yield* Effect.fail(new Error("certificate has no sha-256 fingerprint"))
    return { fingerprint: normalizeFingerprint(`sha-256 ${sha.value}`), certificates: [certificate], decorate: Effect.succeed }
  })

/** A session identity held in an ECDSA key that signs each connection's DTLS fingerprint. */
export const signingIdentity: Effect.Effect<SessionIdentity, Error> = Effect.tryPromise({
  try: async () => {
    const pair = await crypto.subtle.generateKey(KEY_ALGORITHM, false, ["sign", "verify"])
    const spki = await crypto.subtle.exportKey("spki", pair.publicKey)
    return { pair, spki, fingerprint: `sha-256 ${hex(await crypto.subtle.digest("SHA-256", spki))}` }
  },
  catch: (e) => new Error(`cannot create the session identity key: ${String(e)}`)
}).pipe(
  Effect.map(({ fingerprint, pair, spki }): SessionIdentity => ({
    fingerprint,
    certificates: [],
    decorate: (sdp) => {
      const dtls = dtlsFingerprint(sdp)
      if (dtls === undefined) return Effect.succeed(sdp)
      return Effect.promise(() => crypto.subtle.sign(SIGN_ALGORITHM, pair.privateKey, utf8.encode(BINDING_CONTEXT + dtls))).pipe(
        Effect.map((sig) => withSessionAttribute(sdp, `a=${BINDING_ATTRIBUTE}:${b64(spki)} ${b64(sig)}`))
      )
    }
  }))
)
