/**
 * The room a tab is in, so a reload brings the user back to it instead of to the picker, and
 * the sessions the tab ran, so the session after a reload knows what its predecessors said.
 * Kept in the tab's store (sessionStorage) only: it survives a reload and goes with the tab,
 * and another tab of the device starts at the picker. Leaving the room forgets the room;
 * signing out or forgetting the token forgets both. Web-only: plain Web Storage, no adapter.
 */
import { Either, Schema } from "effect"
import { PresenceForm } from "../domain/repo-settings.js"
import { attempt, read } from "./token-store.js"

/** What a tab remembers of its room. */
export const TabRoom = Schema.Struct({
  /** Whose room it was: another login signing in on this tab starts at the picker. */
  login: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  /** "owner/name". */
  repository: Schema.String.pipe(Schema.pattern(/^[^/\s]{1,100}\/[^/\s]{1,100}$/)),
  /** The form the session joined (the repository's recorded one wins again at the rejoin). */
  presence: PresenceForm
})
export type TabRoom = typeof TabRoom.Type

/** The key of the room kept for the API at `api` (rooms on a hub and on GitHub stay apart). */
export const tabRoomKey = (api: string): string => `skygit.room:${new URL(api).host}`

/** The tab's store, or a part of it; missing when the browser refuses storage. */
export type TabStore = Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined

const decode = Schema.decodeUnknownEither(Schema.parseJson(TabRoom))

/**
 * The room this tab was in on `api` as `login`, if any. Anything else in the store (another
 * login's room, a record from an older version, text that is not a record) means no room.
 */
export const keptRoom = (store: TabStore, api: string, login: string): TabRoom | undefined => {
  const room = decode(read(store, tabRoomKey(api)))
  return Either.isRight(room) && room.right.login === login ? room.right : undefined
}

/** Remembers that this tab is in `room` on `api`; a full or disabled store only means no rejoin. */
export const keepRoom = (store: TabStore, api: string, room: TabRoom): void => attempt(() => store?.setItem(tabRoomKey(api), JSON.stringify(room)))

/** Most earlier sessions a tab remembers. */
export const MAX_TAB_SESSIONS = 20

/** The sessions this tab ran, for one login: a reload's new session knows its predecessors. */
const TabSessions = Schema.Struct({
  login: TabRoom.fields.login,
  sessions: Schema.Array(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))).pipe(Schema.maxItems(MAX_TAB_SESSIONS))
})

/** The key of the sessions this tab ran on the API at `api`. */
export const tabSessionsKey = (api: string): string => `skygit.sessions:${new URL(api).host}`

const decodeSessions = Schema.decodeUnknownEither(Schema.parseJson(TabSessions))

/**
 * The sessions this tab ran before as `login` on `api`. Their messages are this person's own
 * (shown as "mine", with no "unverified" tag) and their entries are not "your other tab": the
 * reload that ended them is this tab. Sessions of other tabs are not in it.
 */
export const earlierSessions = (store: TabStore, api: string, login: string): ReadonlySet<string> => {
  const kept = decodeSessions(read(store, tabSessionsKey(api)))
  return Either.isRight(kept) && kept.right.login === login ? new Set(kept.right.sessions) : new Set()
}

/** Adds `sessionId` to the sessions this tab ran as `login` (the newest `MAX_TAB_SESSIONS`). */
export const noteSession = (store: TabStore, api: string, login: string, sessionId: string): void => {
  const sessions = [...earlierSessions(store, api, login), sessionId].slice(-MAX_TAB_SESSIONS)
  attempt(() => store?.setItem(tabSessionsKey(api), JSON.stringify({ login, sessions })))
}

/** Forgets the room of `api` (left, signed out, or the rejoin failed). */
export const forgetRoom = (store: TabStore, api: string): void => attempt(() => store?.removeItem(tabRoomKey(api)))

/** Forgets the room and the sessions this tab ran on `api` (signed out: the next login is anyone's). */
export const forgetTab = (store: TabStore, api: string): void => {
  forgetRoom(store, api)
  attempt(() => store?.removeItem(tabSessionsKey(api)))
}
