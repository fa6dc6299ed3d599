/** The web client's ICE settings (issue 10 §1): defaults, validation, relay-only, remembered only when asked. */
import { describe, expect, it } from "vitest"
import {
  DEFAULT_STUN_URLS,
  defaultIceSettings,
  forgetIceSettings,
  ICE_SETTINGS_KEY,
  iceSettingsProblem,
  loadIceSettings,
  rtcOptionsOf,
  saveIceSettings,
  type IceSettings,
  type SettingsStorage
} from "../../src/web/ice-settings.js"

const memoryStorage = (): SettingsStorage & { readonly items: Map<string, string> } => {
  const items = new Map<string, string>()
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) }
}

const turn = { urls: "turn:turn.example.org:3478", username: "u", credential: "secret" }

describe("ICE settings", () => {
  it("default to public STUN servers, all transports", () => {
    expect(rtcOptionsOf(defaultIceSettings)).toEqual({ iceServers: [{ urls: [...DEFAULT_STUN_URLS] }], iceTransportPolicy: "all" })
  })

  it("carry TURN credentials and relay-only mode to the RTCConfiguration", () => {
    const s: IceSettings = { ...defaultIceSettings, turn, relayOnly: true }
    expect(iceSettingsProblem(s)).toBeUndefined()
    expect(rtcOptionsOf(s)).toEqual({ iceServers: [{ urls: [...DEFAULT_STUN_URLS] }, turn], iceTransportPolicy: "relay" })
  })

  it("refuse bad input with a reason", () => {
    expect(iceSettingsProblem({ ...defaultIceSettings, stunUrls: ["http://x"] })).toMatch(/not a STUN URL/)
    expect(iceSettingsProblem({ ...defaultIceSettings, turn: { ...turn, urls: "stun:x" } })).toMatch(/not a TURN URL/)
    expect(iceSettingsProblem({ ...defaultIceSettings, turn: { ...turn, credential: "" } })).toMatch(/username and a credential/)
    expect(iceSettingsProblem({ ...defaultIceSettings, relayOnly: true })).toMatch(/needs a TURN server/)
    expect(iceSettingsProblem({ ...defaultIceSettings, stunUrls: Array(5).fill("stun:a") })).toMatch(/at most/)
  })

  it("are stored on the device only when asked, and forgotten when no longer asked", () => {
    const storage = memoryStorage()
    saveIceSettings(storage, { ...defaultIceSettings, turn })
    expect(storage.items.size).toBe(0)
    saveIceSettings(storage, { ...defaultIceSettings, turn, remember: true })
    expect(loadIceSettings(storage)).toEqual({ ...defaultIceSettings, turn, remember: true })
    saveIceSettings(storage, { ...defaultIceSettings, turn, remember: false })
    expect(storage.items.has(ICE_SETTINGS_KEY)).toBe(false)
    expect(loadIceSettings(storage)).toEqual(defaultIceSettings)
    storage.setItem(ICE_SETTINGS_KEY, "{not json")
    expect(loadIceSettings(storage)).toEqual(defaultIceSettings)
  })

  it("are forgotten on request, TURN credentials included", () => {
    const storage = memoryStorage()
    saveIceSettings(storage, { ...defaultIceSettings, turn, relayOnly: true, remember: true })
    expect(storage.items.get(ICE_SETTINGS_KEY)).toContain("secret")
    forgetIceSettings(storage)
    expect(storage.items.size).toBe(0)
    expect(loadIceSettings(storage)).toEqual(defaultIceSettings)
  })
})
