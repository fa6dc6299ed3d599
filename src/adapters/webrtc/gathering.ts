/**
 * When a complete description (offer or answer, candidates included) may go out before ICE
 * gathering completes.
 *
 * Gathering completes only when every interface has heard from every ICE server or given up on
 * it. One that never answers (a STUN or TURN server unreachable from a loopback or VPN interface,
 * a blocked port) holds the description back until the gather timeout: seconds per hop, twice per
 * first contact through presence. The servers' candidates that a path across NATs needs arrive
 * far sooner. So a description goes out once it holds every kind of candidate the configured
 * servers can give (server-reflexive for STUN, relayed for TURN), after a short settle for their
 * siblings on other interfaces; or when gathering completes; or at the timeout.
 */

/** ICE candidate types (RFC 8445 §5.1.1; "prflx" never appears in a local description). */
export type CandidateType = "host" | "srflx" | "prflx" | "relay"

const CANDIDATE_TYPES: ReadonlySet<string> = new Set(["host", "srflx", "prflx", "relay"])

/** The candidate types present in an SDP's `a=candidate` lines. */
export const candidateTypesIn = (sdp: string): ReadonlySet<CandidateType> => {
  const types = new Set<CandidateType>()
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith("a=candidate:")) continue
    const fields = line.split(" ")
    const typ = fields.indexOf("typ")
    const type = typ === -1 ? undefined : fields[typ + 1]
    if (type !== undefined && CANDIDATE_TYPES.has(type)) types.add(type as CandidateType)
  }
  return types
}

const schemeOf = (url: string): string => url.slice(0, Math.max(0, url.indexOf(":"))).toLowerCase()

/**
 * The candidate types the configured ICE servers can add: server-reflexive for a STUN server,
 * relayed for a TURN one (libwebrtc takes no server-reflexive candidate from a TURN server).
 * With `iceTransportPolicy: "relay"` only relayed ones are gathered. Empty when no server is
 * configured: host candidates alone complete at once, and nothing is worth cutting short.
 */
export const expectedCandidateTypes = (config: Pick<RTCConfiguration, "iceServers" | "iceTransportPolicy">): ReadonlySet<CandidateType> => {
  const expected = new Set<CandidateType>()
  for (const server of config.iceServers ?? []) {
    for (const url of typeof server.urls === "string" ? [server.urls] : server.urls) {
      const scheme = schemeOf(url)
      if (scheme === "stun" || scheme === "stuns") expected.add("srflx")
      else if (scheme === "turn" || scheme === "turns") expected.add("relay")
    }
  }
  if (config.iceTransportPolicy === "relay") expected.delete("srflx")
  return expected
}

/** Whether a description with candidates `have` holds every type in `expected` (never when nothing is expected). */
export const holdsExpected = (expected: ReadonlySet<CandidateType>, have: ReadonlySet<CandidateType>): boolean => {
  if (expected.size === 0) return false
  for (const type of expected) if (!have.has(type)) return false
  return true
}
