/**
 * The web client's ICE settings (issue 10 §1): STUN servers (defaults, configurable), one TURN
 * server with credentials, and relay-only mode (`iceTransportPolicy: "relay"`, so peers never
 * see this device's address). Kept in memory, and on the device (localStorage) only when the
 * user asks. Pure apart from the storage it is handed; no adapter.
 */

/** Public STUN servers used unless the user sets others: two operators, so one outage is not fatal. */
export const DEFAULT_STUN_URLS: ReadonlyArray<string> = ["stun:stun.l.google.com:19302", "stun:stun.cloudflare.com:3478"]
/** Most STUN URLs kept: each one is queried on every connection. */
export const MAX_STUN_URLS = 4
/** Longest URL, username or credential accepted. */
export const MAX_ICE_FIELD_CHARS = 512
/** The localStorage key the settings are remembered under, when asked. */
export const ICE_SETTINGS_KEY = "skygit:ice-settings"

/** What the user chose. */
export interface IceSettings {
  readonly stunUrls: ReadonlyArray<string>
  readonly turn: { readonly urls: string; readonly username: string; readonly credential: string } | undefined
  readonly relayOnly: boolean
  /** Keep these settings (TURN credentials included) on this device. */
  readonly remember: boolean
}

/** The settings before the user changes anything. */
export const defaultIceSettings: IceSettings = { stunUrls: DEFAULT_STUN_URLS, turn: undefined, relayOnly: false, remember: false }

/** Why the settings cannot be used, or undefined when they can. */
export const iceSettingsProblem = (s: IceSettings): string | undefined => {
  if (s.stunUrls.length > MAX_STUN_URLS) return `at most ${MAX_STUN_URLS} STUN servers`
  for (const url of s.stunUrls) {
    if (!/^stuns?:[^\s]+$/.test(url) || url.length > MAX_ICE_FIELD_CHARS) return `not a STUN URL: ${url.slice(0, 80)}`
  }
  if (s.turn !== undefined) {
    if (!/^turns?:[^\s]+$/.test(s.turn.urls) || s.turn.urls.length > MAX_ICE_FIELD_CHARS) return `not a TURN URL: ${s.turn.urls.slice(0, 80)}`
    if (s.turn.username.length === 0 || s.turn.credential.length === 0) return "a TURN server needs a username and a credential"
    if (s.turn.username.length > MAX_ICE_FIELD_CHARS || s.turn.credential.length > MAX_ICE_FIELD_CHARS) return "TURN username or credential too long"
  }
  if (s.relayOnly && s.turn === undefined) return "relay-only mode needs a TURN server"
  return undefined
}

/** The RTCConfiguration parts the transport takes. */
export const rtcOptionsOf = (s: IceSettings): { readonly iceServers: ReadonlyArray<RTCIceServer>; readonly iceTransportPolicy: RTCIceTransportPolicy } => ({
  iceServers: [
    ...(s.stunUrls.length === 0 ? [] : [{ urls: [...s.stunUrls] }]),
    ...(s.turn === undefined ? [] : [{ urls: s.turn.urls, username: s.turn.username, credential: s.turn.credential }])
  ],
  iceTransportPolicy: s.relayOnly ? "relay" : "all"
})

/** The subset of `Storage` used. */
export interface SettingsStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** Remembered settings, or the defaults when none (or unreadable ones) are stored. */
export const loadIceSettings = (storage: SettingsStorage | undefined): IceSettings => {
  const text = storage?.getItem(ICE_SETTINGS_KEY)
  if (text === null || text === undefined || text.length > 8 * MAX_ICE_FIELD_CHARS) return defaultIceSettings
  try {
    const raw = JSON.parse(text) as Partial<IceSettings>
    const s: IceSettings = {
      stunUrls: Array.isArray(raw.stunUrls) ? raw.stunUrls.filter((u): u is string => typeof u === "string") : DEFAULT_STUN_URLS,
      turn:
        typeof raw.turn === "object" && raw.turn !== null && typeof raw.turn.urls === "string" && typeof raw.turn.username === "string" && typeof raw.turn.credential === "string"
          ? { urls: raw.turn.urls, username: raw.turn.username, credential: raw.turn.credential }
          : undefined,
      relayOnly: raw.relayOnly === true,
      remember: true
    }
    return iceSettingsProblem(s) === undefined ? s : defaultIceSettings
  } catch {
    return defaultIceSettings
  }
}

/** Forgets whatever settings the device keeps. */
export const forgetIceSettings = (storage: SettingsStorage | undefined): void => storage?.removeItem(ICE_SETTINGS_KEY)

/** Stores the settings on the device when `remember` is set, and forgets any stored ones otherwise. */
export const saveIceSettings = (storage: SettingsStorage | undefined, s: IceSettings): void => {
  if (storage === undefined) return
  if (s.remember) storage.setItem(ICE_SETTINGS_KEY, JSON.stringify(s))
  else storage.removeItem(ICE_SETTINGS_KEY)
}
