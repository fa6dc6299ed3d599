/** The room a tab keeps so a reload comes back to it: per API host and login, and nothing from a bad record. */
import { describe, expect, it } from "vitest"
import { forgetRoom, keepRoom, keptRoom, tabRoomKey, type TabStore } from "../../src/web/tab-room.js"

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
})
