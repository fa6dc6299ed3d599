/** The room a tab keeps so a reload comes back to it, and the sessions it ran: per API host and login, nothing from a bad record. */
import { describe, expect, it } from "vitest"
import {
  earlierSessions,
  forgetRoom,
  forgetTab,
  keepRoom,
  keptRoom,
  MAX_TAB_SESSIONS,
  noteSession,
  tabRoomKey,
  tabSessionsKey,
  type TabStore
} from "../../src/web/tab-room.js"

const memoryStore = () => {
  const items = new Map<string, string>()
  const store: NonNullable<TabStore> = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) }
  return { items, store }
}

const HUB = "http://127.0.0.1:5191"
const GITHUB = "https://api.github.com"
const room = { login: "bob", repository: "demo/chat", presence: "discussion" } as const

describe("the tab's room", () => {
  it("is found again by the same login on the same API, and forgotten on leaving", () => {
    const { store } = memoryStore()
    keepRoom(store, HUB, room)
    expect(keptRoom(store, HUB, "bob")).toEqual(room)
    // A hub's room is not GitHub's, and another login on this tab starts at the picker.
    expect(keptRoom(store, GITHUB, "bob")).toBeUndefined()
    expect(keptRoom(store, HUB, "alice")).toBeUndefined()
    forgetRoom(store, HUB)
    expect(keptRoom(store, HUB, "bob")).toBeUndefined()
  })

  it("means no room when the record is broken or hostile", () => {
    const { items, store } = memoryStore()
    for (const text of [
      "{not json",
      "null",
      JSON.stringify({ ...room, presence: "carrier-pigeon" }),
      JSON.stringify({ ...room, repository: "../../etc" }),
      JSON.stringify({ ...room, repository: "a/b/c" }),
      JSON.stringify({ ...room, login: "" }),
      JSON.stringify({ login: "bob" })
    ]) {
      items.set(tabRoomKey(HUB), text)
      expect(keptRoom(store, HUB, "bob"), text).toBeUndefined()
    }
  })

  it("means no room, and throws nothing, when the browser refuses storage", () => {
    const refusing: NonNullable<TabStore> = {
      getItem: () => {
        throw new Error("SecurityError")
      },
      setItem: () => {
        throw new Error("QuotaExceededError")
      },
      removeItem: () => {
        throw new Error("SecurityError")
      }
    }
    for (const store of [refusing, undefined]) {
      expect(() => keepRoom(store, HUB, room)).not.toThrow()
      expect(keptRoom(store, HUB, "bob")).toBeUndefined()
      expect(() => forgetRoom(store, HUB)).not.toThrow()
    }
  })

  it("remembers the sessions it ran for one login, the newest twenty, until signed out", () => {
    const { items, store } = memoryStore()
    expect(earlierSessions(store, HUB, "bob").size).toBe(0)
    for (let i = 1; i <= MAX_TAB_SESSIONS + 5; i++) noteSession(store, HUB, "bob", `web-${i}`)
    const kept = earlierSessions(store, HUB, "bob")
    expect(kept.size).toBe(MAX_TAB_SESSIONS)
    expect(kept.has("web-1")).toBe(false)
    expect(kept.has(`web-${MAX_TAB_SESSIONS + 5}`)).toBe(true)
    // Another login on this tab, or another API, has none of bob's; a new login starts the list again.
    expect(earlierSessions(store, HUB, "mallory").size).toBe(0)
    expect(earlierSessions(store, GITHUB, "bob").size).toBe(0)
    noteSession(store, HUB, "mallory", "web-m")
    expect([...earlierSessions(store, HUB, "mallory")]).toEqual(["web-m"])
    expect(earlierSessions(store, HUB, "bob").size).toBe(0)
    // A broken or oversized record means none; signing out forgets the room and the sessions.
    for (const text of ["[", JSON.stringify({ login: "bob", sessions: Array.from({ length: 50 }, (_, i) => `s${i}`) }), JSON.stringify({ login: "bob", sessions: [""] })]) {
      items.set(tabSessionsKey(HUB), text)
      expect(earlierSessions(store, HUB, "bob").size, text).toBe(0)
    }
    noteSession(store, HUB, "bob", "web-1")
    keepRoom(store, HUB, room)
    forgetTab(store, HUB)
    expect(earlierSessions(store, HUB, "bob").size).toBe(0)
    expect(keptRoom(store, HUB, "bob")).toBeUndefined()
  })
})
