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
