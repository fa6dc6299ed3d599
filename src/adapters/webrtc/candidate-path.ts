/**
 * Which network path a connection took: the candidate types and addresses of its selected
 * ICE candidate pair, read from `getStats()` (host, srflx, prflx or relay on each side).
 * Tests and people debugging NAT traversal ask for it (`/path` in the Node peer).
 */

/** One side of the selected pair. */
export interface CandidateEnd {
  readonly candidateType: string
  readonly address: string
  readonly port: number
}

/** The selected pair of a connection. */
export interface CandidatePath {
  readonly local: CandidateEnd
  readonly remote: CandidateEnd
}

type Stats = Record<string, unknown> & { readonly type?: string; readonly id?: string }

const endOf = (s: Stats | undefined): CandidateEnd | undefined =>
  s === undefined
    ? undefined
    : {
        candidateType: String(s.candidateType ?? "unknown"),
        // `address` in the current spec, `ip` in older stacks.
        address: String(s.address ?? s.ip ?? ""),
        port: Number(s.port ?? 0)
      }

/**
 * The selected pair in a stats report: the one the transport names, else (stacks without
 * `selectedCandidatePairId`) the nominated pair that succeeded.
 */
export const selectedPath = (report: RTCStatsReport): CandidatePath | undefined => {
  const byId = new Map<string, Stats>()
  report.forEach((s: Stats) => {
    if (typeof s.id === "string") byId.set(s.id, s)
  })
  const all = Array.from(byId.values())
  const named = all.find((s) => s.type === "transport" && typeof s.selectedCandidatePairId === "string")
  const pair =
    (named === undefined ? undefined : byId.get(String(named.selectedCandidatePairId))) ??
    all.find((s) => s.type === "candidate-pair" && s.selected === true) ??
    all.find((s) => s.type === "candidate-pair" && s.nominated === true && s.state === "succeeded")
  if (pair === undefined) return undefined
  const local = endOf(byId.get(String(pair.localCandidateId)))
  const remote = endOf(byId.get(String(pair.remoteCandidateId)))
  return local === undefined || remote === undefined ? undefined : { local, remote }
}
