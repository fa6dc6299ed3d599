/**
 * The state of the connection to one peer, as the mesh manager tracks it and the
 * UI shows it, and the reconnect backoff.
 */

/** Every state a connection to a peer can be in. */
export type LinkState = "discovered" | "signaling" | "connecting" | "open" | "reconnecting" | "failed"

/** After this many consecutive failures a link shows as failed (it keeps retrying at the slowest pace). */
export const FAILED_AFTER = 4

/** The wait before reconnect attempt `failures` (1-based): exponential from `baseMs`, capped at `maxMs`. */
export const reconnectDelayMs = (failures: number, baseMs: number, maxMs: number): number =>
  Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1))

/** The state shown after `failures` consecutive failures. */
export const stateAfterFailure = (failures: number): LinkState => (failures >= FAILED_AFTER ? "failed" : "reconnecting")

/**
 * How soon after losing an open link (or after the session last answered an offer) the
 * presence channel is tried again at a brisker pace, and the longest wait between tries
 * meanwhile. A link lost while its session's entry goes on being refreshed, or a session
 * that answers but whose connections fail, was cut by the network (a partition, a Wi-Fi
 * blip, a NAT): the session is alive and will answer once the network heals. Waiting the full
 * presence backoff (up to ten minutes) would keep the mesh split, and each side blind
 * to what the other says, long after the heal. A crashed session is not affected: its
 * entry is not refreshed after the loss, so nobody offers to it at all.
 */
export const REJOIN_WINDOW_MS = 10 * 60_000
export const REJOIN_MAX_DELAY_MS = 2 * 60_000

/**
 * The wait before presence attempt `failures` to a session: the presence backoff,
 * capped at `REJOIN_MAX_DELAY_MS` within `REJOIN_WINDOW_MS` of losing an open link to it
 * (`sinceLostMs`: since the link was lost or the session last answered; undefined when neither happened).
 */
export const presenceRetryDelayMs = (failures: number, baseMs: number, maxMs: number, sinceLostMs: number | undefined): number => {
  const delay = reconnectDelayMs(failures, baseMs, maxMs)
  return sinceLostMs !== undefined && sinceLostMs < REJOIN_WINDOW_MS ? Math.min(delay, REJOIN_MAX_DELAY_MS) : delay
}
