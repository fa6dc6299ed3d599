/** Timing of one peer. Every figure is configuration; defaults are for real use. */

/** How often things happen and how long they may take. */
export interface PeerConfig {
  /**
   * In-mesh heartbeat period and the silence after which a neighbor counts as gone.
   * A crash is usually noticed sooner: the transport reports a failed connection
   * within seconds (its own keepalive, ICE consent); a goodbye is immediate.
   */
  readonly meshHeartbeatMs: number
  readonly meshExpiryMs: number
  /** How often the presence channel entries of the mesh are refreshed, and when an entry is stale. */
  readonly presenceRefreshMs: number
  readonly presenceExpiryMs: number
  /** Presence polling: normal period, fast period while joining or awaiting an answer, slowest period. */
  readonly pollBaseMs: number
  readonly pollFastMs: number
  readonly pollMaxMs: number
  /**
   * File form only: the period while a presence offer or answer of this session is in flight,
   * and for `AWAIT_WATCH_MS` after it starts alone beside a mesh that was already there (a
   * sponsor's offer is on its way). Each hop of
   * signaling through presence waits for the other side's next read; these reads are conditional,
   * and a 304 is free against the primary limit.
   */
  readonly pollAwaitMs: number
  /** How long an offer waits for its answer and the connection to open. */
  readonly signalTimeoutMs: number
  /**
   * How long an online peer may stay outside this peer's component before this peer,
   * if it is the smallest of its component, offers to it itself (the sponsor could not).
   */
  readonly bridgePatienceMs: number
  /**
   * Backoff of attempts signaled through the presence channel: each costs a GitHub
   * write on each side, so they back off from a minute, up to ten.
   */
  readonly presenceRetryBaseMs: number
  readonly presenceRetryMaxMs: number
  /** Reconnect backoff (attempts relayed through the mesh, which cost nothing on GitHub). */
  readonly reconnectBaseMs: number
  readonly reconnectMaxMs: number
  /**
   * How long a joining peer waits to reach everyone online before it may lead a partial
   * mesh (plus the time a presence offer may take to be read, which is longer in Discussion form).
   */
  readonly leaderGraceMs: number
  /**
   * A peer that becomes the smallest of its component waits this long before it
   * leads, so the previous leader (which steps down at once) is not leading too.
   */
  readonly leaderSettleMs: number
  /** The leader commits once the oldest uncommitted message is this old (well under 10 minutes). */
  readonly commitAfterMs: number
  /** Non-leaders hand messages still uncommitted after this long to the leader again. */
  readonly handoffResendMs: number
  /** How far back a starting peer loads committed history into its device store. */
  readonly historyWindowMs: number
  /**
   * How often a leader looks whether someone else moved the branch (a conditional read: free
   * when unchanged), to show what another writer committed (`checkHistory`).
   */
  readonly historyWatchMs: number
  /** Clock of the peer's housekeeping. */
  readonly tickMs: number
}

/** Defaults: a joiner is in the mesh within seconds; nothing waits 10 minutes to be committed. */
export const defaultPeerConfig: PeerConfig = {
  meshHeartbeatMs: 15_000,
  meshExpiryMs: 45_000,
  presenceRefreshMs: 240_000,
  presenceExpiryMs: 600_000,
  pollBaseMs: 15_000,
  pollFastMs: 2_000,
  pollMaxMs: 300_000,
  pollAwaitMs: 500,
  signalTimeoutMs: 30_000,
  bridgePatienceMs: 180_000,
  presenceRetryBaseMs: 60_000,
  presenceRetryMaxMs: 600_000,
  reconnectBaseMs: 2_000,
  reconnectMaxMs: 120_000,
  leaderGraceMs: 60_000,
  leaderSettleMs: 3_000,
  commitAfterMs: 8 * 60_000,
  handoffResendMs: 90_000,
  historyWindowMs: 24 * 60 * 60_000,
  historyWatchMs: 2 * 60_000,
  tickMs: 1_000
}
