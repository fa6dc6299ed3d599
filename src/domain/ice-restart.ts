/**
 * ICE restarts (issue 10 §2): an open connection whose network path was lost (an address
 * changed, a NAT forgot its mapping) is repaired in place, with new candidates, instead of
 * being replaced. The restart's offer and answer travel like a first contact's (relayed by a
 * neighbor, or sealed in the presence channel) under an attempt id derived from the
 * connection's: `<attempt>:r<n>`. Mesh attempt ids (`<session>.<seq>`) never hold a colon.
 */

/** The attempt id of the `n`th ICE restart of the connection made by `attempt`. */
export const restartAttempt = (attempt: string, n: number): string => `${attempt}:r${n}`

/** The connection's attempt id when `attempt` names one of its ICE restarts, else undefined. */
export const restartBase = (attempt: string): string | undefined => /^(.+):r\d{1,6}$/.exec(attempt)?.[1]
