/**
 * Timing and flow-control limits of the WebRTC transport. Defaults are named
 * constants; tests may shorten the timers through `Tuning`.
 */

/** How long an offer or answer waits for ICE gathering before going out with what it has. */
export const ICE_GATHER_TIMEOUT_MS = 5_000
/**
 * How long a description that already holds every candidate type its ICE servers can give waits
 * for more of them (other interfaces, other servers) before going out (see `gathering.ts`).
 */
export const ICE_GATHER_SETTLE_MS = 250
/** How long a connection may stay "connecting" before it is declared failed. */
export const CONNECT_TIMEOUT_MS = 30_000
/** Interval of keepalive pings on an open channel. */
export const KEEPALIVE_INTERVAL_MS = 2_000
/**
 * Silence after which an open channel's path is taken as lost (several missed keepalives, not
 * one): it is then restarted, and failed only if that does not bring it back in time.
 */
export const LIVENESS_TIMEOUT_MS = 6_000
/**
 * How long ICE may stay "disconnected" on an open connection before the offering side restarts
 * it: a brief loss (a few dropped checks) heals by itself.
 */
export const ICE_RESTART_GRACE_MS = 2_000
/**
 * How long after the path was lost an ICE restart may take before the connection is failed
 * (and the app reconnects from scratch): two complete gatherings and a round trip through the
 * presence channel. The mesh stops routing through the peer as soon as the path is lost; only
 * the connection's resources wait this long for a crashed peer.
 */
export const ICE_RESTART_TIMEOUT_MS = 30_000
/** Poll period of `bufferedAmount` while a sender waits: `bufferedamountlow` never fires in @roamhq/wrtc. */
export const BUFFER_POLL_MS = 2
/** A sender waits when the channel's buffer would pass this many bytes: the per-peer memory bound. */
export const HIGH_WATER_MARK = 2 * 1024 * 1024
/**
 * A waiting sender resumes once the buffer has drained below this many bytes. Close to the high
 * mark on purpose: a wide gap let the link run dry between polls (27 vs 38 MB/s in bench:net).
 */
export const LOW_WATER_MARK = 1536 * 1024
/** Rejected frames tolerated from one peer per window before its connection is failed. */
export const MAX_REJECTIONS_PER_WINDOW = 20
/** Window over which rejections are counted. */
export const REJECTION_WINDOW_MS = 10_000

/** Timers and limits of one transport. */
export interface Tuning {
  readonly iceGatherTimeoutMs: number
  readonly iceGatherSettleMs: number
  readonly connectTimeoutMs: number
  readonly keepaliveIntervalMs: number
  readonly livenessTimeoutMs: number
  readonly iceRestartGraceMs: number
  readonly iceRestartTimeoutMs: number
  readonly bufferPollMs: number
  readonly highWaterMark: number
  readonly lowWaterMark: number
  readonly maxRejectionsPerWindow: number
  readonly rejectionWindowMs: number
}

/** The default tuning, from the constants above. */
export const defaultTuning: Tuning = {
  iceGatherTimeoutMs: ICE_GATHER_TIMEOUT_MS,
  iceGatherSettleMs: ICE_GATHER_SETTLE_MS,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
  livenessTimeoutMs: LIVENESS_TIMEOUT_MS,
  iceRestartGraceMs: ICE_RESTART_GRACE_MS,
  iceRestartTimeoutMs: ICE_RESTART_TIMEOUT_MS,
  bufferPollMs: BUFFER_POLL_MS,
  highWaterMark: HIGH_WATER_MARK,
  lowWaterMark: LOW_WATER_MARK,
  maxRejectionsPerWindow: MAX_REJECTIONS_PER_WINDOW,
  rejectionWindowMs: REJECTION_WINDOW_MS
}
