/**
 * The mesh's reconcile, as a pure step: from the table of links and what the peer's selectors
 * say of the mesh and the presence channel (the `ReconcileView`), the connections to withdraw,
 * forget, give way, and offer, in the order the interpreter (`reconcile` in `src/app/mesh.ts`)
 * carries them out, and the next `outsideSince`. Time is a parameter; nothing here reads a
 * clock, starts a connection or writes the table.
 *
 * The step sees the effect of its own earlier commands: an offer it starts counts against the
 * attempts bound and may be displaced by a newcomer's later in the same step, as the
 * interpreter will find them when it carries the commands out one after another.
 */
import { peerKey, type PeerId } from "./identity.js"
import type { LinkState } from "./link.js"
import type { NeighborReport } from "./mesh-view.js"
import { isOfferer, joinerFirstContact, patientOfferTargets, presenceOfferTargets } from "./signaling-roles.js"

/**
 * Most connection attempts (offers made and offers being answered) in flight at once. A mesh
 * forms one joiner at a time in practice; 100 made-up entries once made a peer open 20,000 files.
 */
export const MAX_ATTEMPTS_IN_FLIGHT = 16

/**
 * Most offers through presence in flight to sessions that never answered. Each holds an
 * RTCPeerConnection (about 40 open files in @roamhq/wrtc) until its deadline, and made-up
 * entries never answer: this keeps their cost within the issue's +100 open files.
 */
export const MAX_UNPROVEN_PRESENCE_ATTEMPTS = 2

/** The longest a peer goes without reconsidering its connections when nothing changes. */
export const RECONCILE_EVERY_MS = 5_000

/** What the step reads of the connection to one peer (the interpreter's `Link` is one). */
export interface LinkFacts {
  readonly peer: PeerId
  readonly state: LinkState
  readonly attempt: string | undefined
  readonly via: "presence" | "mesh" | undefined
  readonly deadline: number
  readonly retryAt: number
  readonly meshRetryAt: number
  readonly heardAt: number
  readonly restartingSince?: number | undefined
}

/** Whether `link` holds a connection attempt not yet open. */
const inFlight = (link: LinkFacts): boolean => link.attempt !== undefined && link.state !== "open"

/** Connection attempts not yet open. */
export const attemptsInFlight = (links: Iterable<LinkFacts>): number => {
  let n = 0
  for (const link of links) if (inFlight(link)) n++
  return n
}

/**
 * How an entry ranks for what a peer considers and offers to first: sessions that answered
 * before (`answered`), then newcomers (entries that appeared in the document within
 * `newcomerWindowMs`), then the rest, each by most recent refresh. Refreshes alone cannot rank
 * first: an attacker who keeps hundreds of made-up entries fresh would push a real newcomer's
 * entry out of the entries considered (and out of the few offer slots) until its next refresh.
 */
export const entryRank = (answered: boolean, newcomer: boolean, lastSeen: number): number => (answered ? 2 : newcomer ? 1 : 0) * 1e15 + lastSeen

/** What the expiry half of a reconcile finds at `at`. */
export interface Expiries {
  /** Neighbor reports silent past the expiry, by peer key. */
  readonly reports: ReadonlyArray<string>
  /** Links to fail: open but silent, or an attempt or an ICE restart past its deadline, by peer key. */
  readonly links: ReadonlyArray<string>
}

/** The reports and links that expired at `at` (`expiryMs`: the mesh's silence limit). Runs every tick: values only, keys only for what expired. */
export const expiries = (
  links: ReadonlyMap<string, LinkFacts>,
  reports: ReadonlyMap<string, Pick<NeighborReport, "peer" | "heardAt">>,
  at: number,
  expiryMs: number
): Expiries | undefined => {
  let silent: Array<string> | undefined
  for (const report of reports.values()) if (at - report.heardAt >= expiryMs) (silent ??= []).push(peerKey(report.peer))
  let stuck: Array<string> | undefined
  for (const link of links.values()) {
    if (
      (link.state === "open" && at - link.heardAt >= expiryMs) ||
      // A path under repair waits for the transport's verdict, within a bound of its own.
      (link.restartingSince !== undefined && at > link.deadline) ||
      ((link.state === "signaling" || link.state === "connecting") && at > link.deadline)
    ) {
      ;(stuck ??= []).push(peerKey(link.peer))
    }
  }
  return silent === undefined && stuck === undefined ? undefined : { reports: silent ?? [], links: stuck ?? [] }
}

/** When the next full reconcile is due if nothing changes: within `RECONCILE_EVERY_MS`, or when an idle link may retry or an attempt's deadline passes. */
export const nextReconcileAt = (links: Iterable<LinkFacts>, at: number): number => {
  let due = at + RECONCILE_EVERY_MS
  for (const l of links) {
    const t = l.attempt === undefined ? Math.min(l.retryAt, l.meshRetryAt) : l.deadline + 1
    if (t > at && t < due) due = t
  }
  return due
}

/** The mesh and the presence channel as the peer's selectors see them when a reconcile is due. */
export interface ReconcileView {
  readonly self: PeerId
  /** Sessions presence shows online (self excluded). */
  readonly online: ReadonlyArray<PeerId>
  /** Online sessions that are not ghosts (stale entry, no connection): someone to bridge to. */
  readonly bridgeable: ReadonlyArray<PeerId>
  /** Online sessions with signs of life. */
  readonly live: ReadonlyArray<PeerId>
  /** The sessions this peer reaches through the mesh, itself included. */
  readonly component: ReadonlyArray<PeerId>
  /** The members of `component` that may hold a role (sponsor, leader), and of `live`. */
  readonly roleComponent: ReadonlyArray<PeerId>
  readonly roleLive: ReadonlyArray<PeerId>
  /** The live sessions of a mesh that was there before this session started. */
  readonly established: ReadonlyArray<PeerId>
  /** Open neighbors and their reported neighbor lists: the routes for signaling through the mesh. */
  readonly open: ReadonlyArray<PeerId>
  readonly reports: ReadonlyMap<string, NeighborReport>
  /** Since when each online session has been outside this peer's component (as of the last step). */
  readonly outsideSince: ReadonlyMap<string, number>
  /** Sessions that ever answered (first open), and when entries first appeared in the document, by peer key. */
  readonly answered: ReadonlyMap<string, number>
  readonly arrivals: ReadonlyMap<string, number>
  /** The last read document's entries (`lastSeen`), by peer key. */
  readonly known: ReadonlyMap<string, { readonly lastSeen: number }>
  /** Whether a session publishes a fingerprint (an answer from one that does not cannot be checked). */
  readonly fingerprinted: (key: string) => boolean
  /** Offers through presence not written yet, by peer key (none while a write is under way). */
  readonly unwritten: ReadonlyMap<string, { readonly attempt: string }>
  readonly writing: boolean
  readonly newcomerWindowMs: number
  readonly bridgePatienceMs: number
}

/** What the interpreter does to the table of links, one after another. */
export type ReconcileCommand =
  /** An unanswered offer through presence is withdrawn (back to discovered, no failure); `dropOffer`: its unwritten copy too. */
  | { readonly _tag: "Withdraw"; readonly key: string; readonly dropOffer: boolean }
  /** An idle link to a session neither online nor in the component is forgotten. */
  | { readonly _tag: "Forget"; readonly key: string }
  /** An unanswered offer through presence to a session that never answered gives way to a newcomer's (a failure). */
  | { readonly _tag: "GiveWay"; readonly key: string }
  /** An offer starts, signaled through the mesh or the presence channel. */
  | { readonly _tag: "Offer"; readonly key: string; readonly via: "presence" | "mesh" }

export interface ReconcileStep {
  readonly outsideSince: ReadonlyMap<string, number>
  readonly commands: ReadonlyArray<ReconcileCommand>
}

/** Stands for the attempt an `Offer` will start: the step only needs to know there is one. */
const STARTING = "starting"

/**
 * One reconcile: which unanswered offers give way to a route through the mesh or are no longer
 * this peer's to make, which idle links are forgotten, and which offers start, bounded by the
 * attempts in flight and, through presence, by the offers to sessions that never answered.
 */
export const stepReconcile = (links: ReadonlyMap<string, LinkFacts>, view: ReconcileView, at: number): ReconcileStep => {
  const { self } = view
  const commands: Array<ReconcileCommand> = []
  const wanted = new Set([...view.online, ...view.component].map(peerKey))
  const members = new Set(view.component.map(peerKey))
  const outsideSince = new Map(view.outsideSince)
  for (const key of outsideSince.keys()) if (members.has(key) || !wanted.has(key)) outsideSince.delete(key)
  for (const p of view.online) if (!members.has(peerKey(p)) && !outsideSince.has(peerKey(p))) outsideSince.set(peerKey(p), at)

  // The roles are elections over everyone online: worked out only when an offer through presence is in question.
  let roles: { readonly sponsored: ReadonlySet<string>; readonly answeringKey: string | undefined } | undefined
  const rolesNow = () => {
    if (roles !== undefined) return roles
    // Only sessions that answer may hold the first-contact role: a silent entry never makes everyone wait.
    const firstContact = presenceOfferTargets(self, view.component, view.live, [...view.roleComponent, ...view.roleLive])
    // A smaller session that never answered may be silent: a joiner of an existing mesh makes its own
    // first contact too, to a member of that mesh (fellow newcomers are the sponsor's to reach).
    // The member of a mesh that was there before this (still alone) peer which answers presence
    // offers: the smallest one above it. Its offer goes first, whatever else this peer sponsors.
    const answering = joinerFirstContact(self, view.component, view.established)
    const probe = firstContact.length === 0 ? answering : undefined
    const sponsored = new Set(
      [
        ...firstContact,
        ...(probe === undefined ? [] : [probe]),
        // A ghost (stale entry, no connection) is no one to bridge to until its entry is refreshed.
        ...patientOfferTargets(self, view.roleComponent, view.bridgeable, (p) => outsideSince.get(peerKey(p)) ?? at, at, view.bridgePatienceMs)
      ].map(peerKey)
    )
    return (roles = { sponsored, answeringKey: answering === undefined ? undefined : peerKey(answering) })
  }
  const sponsors = (key: string): boolean => rolesNow().sponsored.has(key)
  // The sessions some open neighbor's list names: those signaling through the mesh can reach (as `relayTo` finds).
  let routes: Set<string> | undefined
  const routed = (peer: PeerId): boolean => {
    if (routes === undefined) {
      routes = new Set()
      for (const n of view.open) for (const m of view.reports.get(peerKey(n))?.neighbors ?? []) routes.add(peerKey(m))
    }
    return routes.has(peerKey(peer))
  }
  const isNewcomer = (key: string): boolean => {
    const arrived = view.arrivals.get(key)
    return arrived !== undefined && at - arrived < view.newcomerWindowMs
  }
  const priority = (key: string): number => entryRank(view.answered.has(key), isNewcomer(key), view.known.get(key)?.lastSeen ?? 0)

  // The table as the commands so far leave it.
  const changed = new Map<string, LinkFacts>()
  const linkAt = (key: string, link: LinkFacts): LinkFacts => changed.get(key) ?? link

  for (const [key, link] of links) {
    if (link.via !== "presence" || link.state !== "signaling" || link.attempt === undefined || !isOfferer(self, link.peer)) continue
    const unwritten = !view.writing && view.unwritten.get(key)?.attempt === link.attempt
    // An offer through presence that is not answered yet gives way to a path through the mesh
    // (the other side may never answer: it joined a component whose smallest peer answers),
    // and an offer not written yet is dropped once this peer no longer sponsors its target
    // (a smaller peer came online): either way no failure, no backoff, and no write.
    if (routed(link.peer) || (unwritten && !sponsors(key))) {
      commands.push({ _tag: "Withdraw", key, dropOffer: unwritten })
      changed.set(key, { ...link, state: "discovered", attempt: undefined, via: undefined, retryAt: 0, meshRetryAt: 0 })
    }
  }

  // Whatever presence or neighbors say, only a few attempts are in flight at once;
  // sessions that answered before go first, then the most recently refreshed.
  let attempts = 0
  let unproven = 0
  const forgotten = new Set<string>()
  const candidates: Array<readonly [string, LinkFacts]> = []
  for (const [key, base] of links) {
    const link = linkAt(key, base)
    if (inFlight(link)) {
      attempts++
      if (link.via === "presence" && !view.answered.has(key)) unproven++
    }
    if (!wanted.has(key) && link.state !== "open" && link.attempt === undefined) {
      commands.push({ _tag: "Forget", key })
      forgotten.add(key)
      continue
    }
    if (link.state === "open" || link.attempt !== undefined) continue
    if (at < link.retryAt && (at < link.meshRetryAt || !routed(link.peer))) continue
    candidates.push([key, link])
  }
  if (candidates.length > MAX_ATTEMPTS_IN_FLIGHT - attempts) candidates.sort(([a], [b]) => priority(b) - priority(a))
  // A sponsor that is alone reaches an existing mesh through the one member that answers (the
  // others leave presence offers to it): that offer goes first. Offered in the order of the
  // links, two other members once held both unanswered slots, and a smaller-named joiner took
  // minutes to join a formed mesh (sim, 10 peers, seed 1: full mesh p50 233 s).
  const answeringKey = candidates.length === 0 ? undefined : rolesNow().answeringKey
  const first = answeringKey === undefined ? -1 : candidates.findIndex(([key]) => key === answeringKey)
  if (first > 0) candidates.unshift(...candidates.splice(first, 1))

  /** An unanswered offer through presence to a session that never answered and is no newcomer (the one refreshed least recently). */
  const displaceable = (): string | undefined => {
    let victim: string | undefined
    for (const [key, base] of links) {
      if (forgotten.has(key)) continue
      const link = linkAt(key, base)
      if (link.via !== "presence" || !inFlight(link) || view.answered.has(key) || isNewcomer(key)) continue
      if (victim === undefined || priority(key) < priority(victim)) victim = key
    }
    return victim
  }

  // Offers to sessions that never answered and are no newcomers start in pairs: each offer through
  // presence is a write, and pairs started together go in one write and expire together.
  const unprovenBefore = unproven
  for (const [key, link] of candidates) {
    if (attempts >= MAX_ATTEMPTS_IN_FLIGHT) break
    if (!isOfferer(self, link.peer)) continue
    // No published fingerprint, no way to check its answer: such a session is not offered to.
    if (!view.fingerprinted(key)) continue
    if (routed(link.peer)) {
      attempts++
      commands.push({ _tag: "Offer", key, via: "mesh" })
      changed.set(key, { ...link, state: "signaling", attempt: STARTING, via: "mesh" })
    } else if (sponsors(key)) {
      const urgent = isNewcomer(key) || key === answeringKey
      if (!view.answered.has(key) && !urgent && unprovenBefore > 0) continue
      // An offer through presence to a session that never answered holds a connection (and
      // tens of open files in @roamhq/wrtc) until its deadline: only a couple at once.
      if (!view.answered.has(key) && unproven >= MAX_UNPROVEN_PRESENCE_ATTEMPTS) {
        // A newcomer does not wait out offers to entries that were there before it and never
        // answered (made-up entries, refreshed to look alive, would hold the slots for good):
        // it takes the place of one of them.
        // So does the member that answers for a formed mesh, when this peer is alone.
        const victim = urgent ? displaceable() : undefined
        if (victim === undefined) continue
        commands.push({ _tag: "GiveWay", key: victim })
        changed.set(victim, { ...linkAt(victim, links.get(victim)!), state: "reconnecting", attempt: undefined, via: undefined })
        attempts--
        unproven--
      }
      attempts++
      if (!view.answered.has(key)) unproven++
      commands.push({ _tag: "Offer", key, via: "presence" })
      changed.set(key, { ...link, state: "signaling", attempt: STARTING, via: "presence" })
    }
  }
  return { outsideSince, commands }
}
