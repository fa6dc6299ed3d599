/**
 * Presence, file form, with a lobby for users who may read but not push (issue 9).
 *
 * The file form needs a commit for every entry, and a user without push access cannot make
 * one. GitHub lets a read-role user take part in Discussions (the Read role is "for
 * non-code contributors who want to view or discuss your project": docs.github.com,
 * "Repository roles for an organization"; an organization may keep starting discussions to
 * triage and above, but "anyone can still comment on an existing discussion":
 * github.com/orgs/community/discussions/29). So the presence Discussion of the other form
 * serves as a lobby, composed here from two Presence services without touching their insides:
 *   - a reader (no push) publishes to its own comment in the lobby (the Discussion adapter
 *     creates the Discussion when missing and allowed) and reads presence.json merged with
 *     the lobby;
 *   - a pusher publishes only to presence.json (offers sealed to a reader land there, and the
 *     reader reads them) and reads presence.json merged with the lobby: slowly, not at all
 *     while no lobby exists (it only checks, rarely, and never creates one), and fast for a
 *     while when a fresh lobby entry is not in presence.json yet (someone knocking) or right
 *     after it wrote signaling (an answer may come back through the lobby).
 * Once a reader's data channel is open the mesh carries it, and the file form's refresher (a
 * pusher) keeps its entry in presence.json with everyone else's.
 * Lobby entries are verified by the comment's author (the Discussion adapter skips an entry
 * claiming another user, with a reason); the lobby's share of a read is bounded like a
 * document's (`MAX_PRESENCE_*`), newest first.
 */
import { Clock, Effect, Ref } from "effect"
import { peerKey } from "../domain/identity.js"
import {
  emptyDocument,
  MAX_PRESENCE_CALL_SLOTS,
  MAX_PRESENCE_ENTRIES,
  MAX_PRESENCE_SIGNALS,
  type PresenceDocument,
  type PresenceEntry,
  type Skipped
} from "../domain/presence-doc.js"
import type { PresenceChange } from "../domain/presence-doc.js"
import type { PresenceError, PresenceService, PresenceSnapshot } from "../ports/Presence.js"

/** A pusher reads an existing lobby at most this often while nobody knocks. */
export const LOBBY_SLOW_MS = 30_000
/** ...and this often while someone knocks or an answer may come back through the lobby. */
export const LOBBY_FAST_MS = 2_500
/** While no lobby exists (or it could not be read), whether one exists is asked this often. */
export const LOBBY_PROBE_MS = 3 * 60_000
/** A knocking session (a fresh lobby entry not in presence.json) makes a pusher read fast for at most this long. */
export const LOBBY_KNOCK_FAST_FOR_MS = 2 * 60_000
/** After this session wrote signaling, it reads the lobby fast for this long (the answer may come back there). */
export const LOBBY_ANSWER_FAST_FOR_MS = 60_000
/** A lobby entry refreshed longer ago than this is nobody knocking (a reader that crashed). */
export const LOBBY_ENTRY_FRESH_MS = 10 * 60_000

/** The parts a lobby is made of: both presence channels, and what this user may do. */
export interface LobbyParts {
  /** presence.json (file form). */
  readonly file: PresenceService
  /** The presence Discussion (Discussion form); its reads and writes may create it. */
  readonly lobby: PresenceService
  /** Whether this user may push (GitHub's `permissions.push`); asked once, when the lobby is made. */
  readonly canPush: Effect.Effect<boolean>
  /** Whether the lobby exists, without creating it (a pusher never creates one). */
  readonly lobbyExists: Effect.Effect<boolean, PresenceError>
  /** A lobby failure as the reader is told it (for example "Discussions are disabled": what to do). */
  readonly explain: (e: PresenceError) => PresenceError
}

interface LobbyState {
  /** undefined: not asked yet; a pusher reads the lobby only once it is known to exist. */
  readonly exists: boolean | undefined
  readonly lastProbeAt: number
  readonly lastReadAt: number
  readonly document: PresenceDocument
  readonly skipped: ReadonlyArray<Skipped>
  /** When each knocking session was first seen knocking. */
  readonly knocking: ReadonlyMap<string, number>
  /** Read fast until then (this session wrote signaling). */
  readonly fastUntil: number
}

const initial: LobbyState = {
  exists: undefined,
  lastProbeAt: Number.NEGATIVE_INFINITY,
  lastReadAt: Number.NEGATIVE_INFINITY,
  document: emptyDocument,
  skipped: [],
  knocking: new Map(),
  fastUntil: Number.NEGATIVE_INFINITY
}

const entryKey = (e: PresenceEntry): string => peerKey({ username: e.username, sessionId: e.sessionId })

/** The newest `max` of `items` by `at`, and a reason for what was left out. */
const newest = <A>(items: ReadonlyArray<A>, max: number, at: (a: A) => number, what: string, skipped: Array<Skipped>): ReadonlyArray<A> => {
  if (items.length <= max) return items
  skipped.push({ detail: `lobby: ${items.length - max} ${what} past the ${max} read` })
  return [...items].sort((a, b) => at(b) - at(a)).slice(0, max)
}

/**
 * The file's document with the lobby's: an entry in both (a reader whose entry a refresher
 * copied into the file) is the more recently refreshed one; the lobby's share is bounded.
 */
export const mergeLobby = (file: PresenceDocument, lobby: PresenceDocument): { readonly document: PresenceDocument; readonly skipped: ReadonlyArray<Skipped> } => {
  if (lobby.entries.length === 0 && lobby.signals.length === 0 && (lobby.calls ?? []).length === 0) return { document: file, skipped: [] }
  const skipped: Array<Skipped> = []
  const entries = new Map(file.entries.map((e) => [entryKey(e), e] as const))
  for (const e of newest(lobby.entries, MAX_PRESENCE_ENTRIES, (x) => x.lastSeen, "entries", skipped)) {
    const there = entries.get(entryKey(e))
    if (there === undefined || there.lastSeen < e.lastSeen) entries.set(entryKey(e), e)
  }
  const signals = newest(lobby.signals, MAX_PRESENCE_SIGNALS, (x) => x.at, "signaling slots", skipped)
  const calls = newest(lobby.calls ?? [], MAX_PRESENCE_CALL_SLOTS, (x) => x.at, "call slots", skipped)
  return {
    document: { entries: [...entries.values()], signals: [...file.signals, ...signals], calls: [...(file.calls ?? []), ...calls] },
    skipped
  }
}

/** Presence in file form with a lobby: see the module comment. */
export const makeLobbyPresence = (parts: LobbyParts): Effect.Effect<PresenceService> =>
  Effect.gen(function* () {
    // A failed read of the permission is taken for "may push": the file adapter then says so plainly if not.
    const pusher = yield* parts.canPush
    const state = yield* Ref.make(initial)

    /** Sessions knocking now: fresh lobby entries not in the file, first seen within the fast period. */
    const knockingNow = (s: LobbyState, file: PresenceDocument, at: number): ReadonlyMap<string, number> => {
      const inFile = new Set(file.entries.map(entryKey))
      const out = new Map<string, number>()
      for (const e of s.document.entries) {
        const key = entryKey(e)
        if (inFile.has(key) || at - e.lastSeen > LOBBY_ENTRY_FRESH_MS) continue
        out.set(key, s.knocking.get(key) ?? at)
      }
      return out
    }

    /** How long after the last lobby read the next one is due. */
    const interval = (s: LobbyState, at: number): number => {
      if (at < s.fastUntil) return LOBBY_FAST_MS
      if (pusher && Array.from(s.knocking.values()).some((since) => at - since < LOBBY_KNOCK_FAST_FOR_MS)) return LOBBY_FAST_MS
      return LOBBY_SLOW_MS
    }

    /** Reads the lobby when due; true when what it holds changed. */
    const readLobby = (file: PresenceDocument, at: number): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        // Fields are updated one by one (a publish may set `fastUntil` meanwhile).
        const s = yield* Ref.get(state)
        // A pusher asks (rarely) whether a lobby exists before reading one: a read would create it.
        if (pusher && s.exists !== true) {
          if (at - s.lastProbeAt < LOBBY_PROBE_MS) return false
          const exists = yield* parts.lobbyExists.pipe(Effect.orElseSucceed(() => false))
          yield* Ref.update(state, (x) => ({ ...x, exists, lastProbeAt: at }))
          if (!exists) return false
        } else if (!pusher && s.exists === false && at - s.lastProbeAt < LOBBY_PROBE_MS) {
          return false
        } else if (at - s.lastReadAt < interval(s, at)) {
          return false
        }
        const read = yield* Effect.either(parts.lobby.read)
        if (read._tag === "Left") {
          // Unreadable (deleted, Discussions turned off, a network failure): ask again after a probe period.
          const detail = `lobby: ${read.left._tag === "RateLimited" ? "rate limited" : read.left.detail}`
          yield* Ref.update(state, (x) => ({ ...x, exists: false, lastProbeAt: at, lastReadAt: at, skipped: [{ detail }] }))
          return false
        }
        yield* Ref.update(state, (x) => {
          const next: LobbyState = { ...x, exists: true, lastReadAt: at, document: read.right.document, skipped: read.right.skipped }
          return { ...next, knocking: knockingNow(next, file, at) }
        })
        return read.right.changed
      })

    const read: Effect.Effect<PresenceSnapshot, PresenceError> = Effect.gen(function* () {
      const fileSnap = yield* parts.file.read
      const at = yield* Clock.currentTimeMillis
      const lobbyChanged = yield* readLobby(fileSnap.document, at)
      // Who knocks is judged against the latest file too: a knock stops once a refresher copied the entry.
      const s = yield* Ref.updateAndGet(state, (x) => ({ ...x, knocking: knockingNow(x, fileSnap.document, at) }))
      const merged = mergeLobby(fileSnap.document, s.document)
      return {
        document: merged.document,
        skipped: [...fileSnap.skipped, ...s.skipped, ...merged.skipped],
        changed: fileSnap.changed || lobbyChanged
      }
    })

    const answerSoon = (change: PresenceChange) =>
      change.signals.length > 0 || (change.calls ?? []).length > 0
        ? Effect.flatMap(Clock.currentTimeMillis, (at) => Ref.update(state, (s) => ({ ...s, fastUntil: at + LOBBY_ANSWER_FAST_FOR_MS })))
        : Effect.void

    const publish = (change: PresenceChange): Effect.Effect<void, PresenceError> =>
      pusher
        ? Effect.zipRight(parts.file.publish(change), answerSoon(change))
        : parts.lobby.publish(change).pipe(
            Effect.mapError(parts.explain),
            // Published: the lobby exists now, and is worth reading again soon.
            Effect.zipRight(Ref.update(state, (s) => ({ ...s, exists: true }))),
            Effect.zipRight(answerSoon(change))
          )

    return {
      form: "file",
      identities: "claimed",
      // A reader writes only its own comment; a pusher refreshes everyone's entries in the file.
      writesForOthers: pusher,
      publish,
      read
    } satisfies PresenceService
  })
