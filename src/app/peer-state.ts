/**
 * The state one peer's actor owns, and the view of it that the UI and the
 * simulator read. Only the actor fiber mutates `PeerState`.
 */
import type { Publisher, RateNotice } from "../domain/presence-publish.js"
import type { Leadership } from "../domain/leadership.js"
import type { PeerId } from "../domain/identity.js"
import type { LinkState } from "../domain/link.js"
import type { NeighborReport } from "../domain/mesh-view.js"
import type { PresenceCallSlot, PresenceEntry } from "../domain/presence-doc.js"
import type { Message } from "../domain/message.js"
import type { MessageState } from "./message-state.js"
import type { Description } from "../domain/envelope.js"

/** The mesh manager's record of the connection to one peer. */
export interface Link {
  readonly peer: PeerId
  state: LinkState
  /** The current connection attempt, if any. */
  attempt: string | undefined
  /** Which way the current attempt was signaled. */
  via: "presence" | "mesh" | undefined
  /** The neighbor that relayed the other side's signaling to us: our reply goes back through it. */
  relayVia: PeerId | undefined
  /** Until when the current signaling attempt may take. */
  deadline: number
  failures: number
  /** When the next attempt may start (after a failure through presence, the presence backoff). */
  retryAt: number
  /**
   * When the next attempt signaled through the mesh may start. Mesh signaling writes nothing to
   * GitHub, so it waits out only the reconnect backoff: a route that appears (a partition heals,
   * a neighbor bridges) is used at once, not after minutes of presence backoff.
   */
  meshRetryAt: number
  /** Last time anything arrived from this peer. */
  heardAt: number
  /** Since when the open connection's path is being repaired by an ICE restart (the transport says "restarting"). */
  restartingSince?: number | undefined
}

/** A notice the UI shows: GitHub slowed us down, until when, and why. */
export type { RateNotice }

/** An offer held until a connection attempt is free, with when it came. */
export interface WaitingOffer {
  readonly origin: PeerId
  readonly attempt: string
  readonly description: Description
  readonly via: "presence" | "mesh"
  readonly relayedBy: PeerId | undefined
  readonly at: number
}

/** A frame or presence entry that was refused, kept for the UI and tests. */
export interface Rejection {
  readonly at: number
  readonly from: string
  readonly reason: string
  /**
   * A trouble of this peer's own work (a send that failed, an offer that gave way, the device's
   * store), kept in the log beside the refusals but neither counted nor shown as refused: a
   * colleague's reload once showed everyone a red "1 refused" tag.
   */
  readonly own?: true
}

/** Everything the actor of one peer owns. */
export interface PeerState {
  readonly startedAt: number
  readonly links: Map<string, Link>
  readonly reports: Map<string, NeighborReport>
  /** Fresh presence-channel entries by peer key (self excluded). */
  online: Map<string, PresenceEntry>
  /** The entries of the last read document, all of them (the refresher copies fingerprints from it). */
  known: Map<string, PresenceEntry>
  /**
   * Peers seen leaving (a goodbye, or an open connection that failed) and when: their
   * presence entry no longer counts until it is refreshed after that time. Without this
   * a crashed peer's stale entry would keep it "online" (and perhaps the sponsor) until
   * it expires, and joiners would wait for it.
   */
  readonly lost: Map<string, number>
  /**
   * Sessions whose answer to one of this peer's offers arrived, and when. Such a session is
   * alive and answers: when its connection then fails, the network cut it (a partition, a
   * NAT), so retries stay brisk as after a lost link (`presenceRetryDelayMs`).
   */
  readonly answered: Map<string, number>
  /**
   * When this peer last lost an open link to a session it did not see leave (a partition, a
   * crash on the other side). The other side stops counting this peer's entry until it is
   * refreshed after its own loss: the refresher refreshes soon after a cut (`Scope.cutAt`).
   */
  cutAt: number | undefined
  /** Peers that said goodbye, and when: the refresher takes their entries out (file form). */
  readonly goodbyes: Map<string, number>
  /** Since when each online peer has been outside this peer's component (for the patient bridge). */
  outsideSince: ReadonlyMap<string, number>
  /** Signaling messages already acted on: `origin/attempt/type`. */
  readonly handled: Set<string>
  /** Offers made but not yet published to the presence channel. */
  readonly outbox: Map<string, { readonly to: PeerId; readonly attempt: string; readonly sdp: string; readonly type: "offer" | "answer" }>
  /** Call slots the calls service posted for peers it cannot reach on a data channel, not yet written. */
  readonly callOutbox: Map<string, PresenceCallSlot>
  /** Whether a call waits for a reply through the presence channel (the poller reads fast). */
  callWaiting: boolean
  lastBeatAt: number
  /** The neighbor list last sent in full, and when. */
  lastNeighbors: string
  lastNeighborsAt: number
  /** Bumped whenever the open set or a neighbor list changes: the mesh's memoised selectors recompute only then. */
  meshVersion: number
  /** Bumped whenever a read of the presence channel changed what it shows. */
  presenceVersion: number
  /** Whether a read of the presence channel has answered (a missing document too): until then who is online is unknown. */
  presenceRead: boolean
  /**
   * Bumped whenever the sessions `online` holds change (not their entries' freshness): what a
   * neighbor list is believed to name, and so the component, depend only on those.
   */
  onlineSessions: number
  /** Bumped whenever a session is first known (`firstKnown` gained it): the role memo recomputes then. */
  knownAdded: number
  /** Bumped whenever `firstOpen` gains or drops a session: the memos that read who answered recompute then. */
  answeredVersion: number
  /** What the last full reconcile saw, and when the next one is due regardless. */
  reconciled: { readonly meshVersion: number; readonly presenceVersion: number; readonly nextDueAt: number }
  /** Presence publishing, the budget and the channel's notices: replaced by each step of `stepPublish`, on the actor only. */
  publish: Publisher
  /** Leadership and commit scheduling: replaced by each step of `stepLeadership`, on the actor only. */
  leadership: Leadership
  /** Peers whose heartbeats say they cannot push, by peer key: they are never elected. */
  readonly cannotPush: Set<string>
  /** Neighbors whose last heartbeat said they act as leader, by peer key (read only while their link is open). */
  readonly leading: Set<string>
  readonly rejections: Array<Rejection>
  /** How many items were refused, by kind (shown by the client and the Node peer). */
  readonly refused: Map<string, number>
  /** Relayed offers per relaying neighbor in the last minute. */
  readonly relayedOffers: Map<string, Array<number>>
  /** Chat messages per sender in the current window, and how often it went over. */
  readonly chatRate: Map<string, Array<number>>
  readonly chatExcess: Map<string, Array<number>>
  /** Catch-up summaries answered per neighbor in the last minute. */
  readonly summaryRate: Map<string, Array<number>>
  /** Names from neighbor lists already looked up in presence (a phantom triggers one read, not one per list). */
  readonly lookedUp: Set<string>
  /** Relayed offers waiting for a presence read that may publish their sender's fingerprint. */
  readonly deferred: Map<string, { readonly origin: PeerId; readonly attempt: string; readonly description: Description; readonly relayedBy: PeerId | undefined }>
  /**
   * Offers that came while `MAX_ATTEMPTS_IN_FLIGHT` attempts were in flight, by origin, answered
   * as attempts settle (a joiner of a large mesh gets one from every member at once).
   */
  readonly waiting: Map<string, WaitingOffer>
  /** Whether the poller should read soon to look up sessions named in the mesh. */
  presenceCheckDue: boolean
  /** Fingerprints seen in any good read, kept when an entry is lost (a deleted or damaged file). */
  readonly fingerprints: Map<string, string>
  /**
   * Signing keys seen in any good read, by peer key (the latest last), kept after an entry
   * expires or is lost: a relayed message verifies against any key its session published.
   */
  readonly signingKeys: Map<string, ReadonlyArray<string>>
  /**
   * When each peer was first known (presence or mesh; at most `MAX_FIRST_KNOWN`, see `noteKnown`
   * in mesh.ts), and first connected: a role's grace, and the simulator's figures.
   */
  readonly firstKnown: Map<string, number>
  /** When each session's channel first opened (at most `MAX_FIRST_OPEN`, see `noteOpened` in mesh.ts). */
  readonly firstOpen: Map<string, number>
  /**
   * When each entry of the presence document last read first appeared in it, by peer key
   * (only the document's entries: bounded by its size). A newcomer ranks above entries that
   * were already there, whatever their `lastSeen` (which any writer can keep fresh).
   */
  arrivals: Map<string, number>
  attemptSeq: number
  messageSeq: number
  closing: boolean
  /** Where recent messages stand (bounded, oldest forgotten first: `MAX_TRACKED_STATES`). */
  readonly messageStates: Map<string, MessageState>
  /** Messages held recently, by id, oldest first (bounded: `MAX_RECENT_MESSAGES`): catch-up's window. */
  readonly recent: Map<string, Message>
}

/** What a UI (or the simulator) sees of one peer. */
export interface PeerView {
  readonly self: PeerId
  readonly links: ReadonlyArray<{ readonly peer: PeerId; readonly state: LinkState }>
  readonly online: ReadonlyArray<PeerId>
  readonly component: ReadonlyArray<PeerId>
  readonly leader: PeerId | undefined
  readonly isLeader: boolean
  readonly rateNotice: RateNotice | undefined
  readonly presenceProblem: string | undefined
  readonly rejections: ReadonlyArray<Rejection>
  /** How many messages this device holds that it has not seen committed ("waiting to be saved"). */
  readonly waiting: number
  /** The people online (users), each with their sessions folded under them. */
  readonly people: ReadonlyArray<Person>
  /** Refused items by kind (malformed frames, chat over the rate, spoofed authors...). */
  readonly refused: Readonly<Record<string, number>>
  /** Set when history is not being saved: nobody online can push, or GitHub refuses the writes. */
  readonly historyNotice?: string | undefined
  /** `claimed` (file form): other sessions' logins are unverified claims and shown as such. */
  readonly identities: "claimed" | "verified"
}

/**
 * What the UI says of one session: "self" (this one), a connection state, or "away":
 * not heard from (its presence entry was not refreshed and it answered no offer, or
 * it left), so it is no longer someone to connect to.
 */
export type SessionState = LinkState | "self" | "away"

/** One session of a person. */
export interface PersonSession {
  readonly peer: PeerId
  readonly state: SessionState
  readonly leader: boolean
}

/** A user and their sessions (tabs, processes), self first, then by session id. */
export interface Person {
  readonly username: string
  readonly sessions: ReadonlyArray<PersonSession>
}

/** A full neighbor list goes out at least this often, even unchanged. */
export const FULL_NEIGHBOR_LIST_EVERY_MS = 30_000
/** Most rejections remembered for display. */
export const MAX_REJECTIONS_KEPT = 100
/** Most signaling ids remembered as handled before the oldest are forgotten. */
export const MAX_HANDLED_SIGNALS = 5_000
