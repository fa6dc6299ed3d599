/**
 * Where the page keeps a GitHub token: for the tab (sessionStorage) always, on the device
 * (localStorage) only when the user asked, and nowhere once they press "Forget token".
 * No server of SkyGit's ever holds one (issue 9). Web-only: plain Web Storage, no adapter.
 */

/** The key of the token of the API at `api` (a hub's tokens never stand in for GitHub's). */
export const tokenKey = (api: string): string => `skygit.token:${new URL(api).host}`

/** The two stores a token may be kept in; either may be missing (storage disabled). */
export interface TokenStores {
  /** The tab's store: gone when the tab closes. */
  readonly tab: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined
  /** The device's store: kept across tabs and restarts. */
  readonly device: Pick<Storage, "getItem" | "setItem" | "removeItem"> | undefined
}

/** A kept token and whether it is remembered on the device. */
export interface KeptToken {
  readonly token: string
  readonly remembered: boolean
}

/** The page's stores, where the browser lets us use them (a sandboxed frame may throw). */
export const pageTokenStores = (): TokenStores => {
  const get = (name: "sessionStorage" | "localStorage") => {
    try {
      return globalThis[name]
    } catch {
      return undefined
    }
  }
  return { tab: get("sessionStorage"), device: get("localStorage") }
}

/** The text kept under `key`, if any: a store that refuses (disabled, sandboxed) holds nothing. */
export const read = (store: TokenStores["tab"], key: string): string | undefined => {
  try {
    const v = store?.getItem(key)
    return typeof v === "string" && v.trim() !== "" ? v : undefined
  } catch {
    return undefined
  }
}

/** Runs a write or removal of Web Storage; a full or disabled store only means nothing is kept. */
export const attempt = (f: () => void): void => {
  try {
    f()
  } catch {
    // Storage full or disabled: what was to be kept then lives only in memory, which is still correct.
  }
}

/** The token kept for `api`: the tab's first, else the device's. */
export const keptToken = (stores: TokenStores, api: string): KeptToken | undefined => {
  const key = tokenKey(api)
  const device = read(stores.device, key)
  const tab = read(stores.tab, key)
  const token = tab ?? device
  return token === undefined ? undefined : { token, remembered: device !== undefined }
}

/** Keeps `token` for the tab, and on the device only when `remember` (else any device copy goes). */
export const keepToken = (stores: TokenStores, api: string, token: string, remember: boolean): void => {
  const key = tokenKey(api)
  attempt(() => stores.tab?.setItem(key, token))
  attempt(() => (remember ? stores.device?.setItem(key, token) : stores.device?.removeItem(key)))
}

/** Forgets the token of `api` in both stores. */
export const forgetToken = (stores: TokenStores, api: string): void => {
  const key = tokenKey(api)
  attempt(() => stores.tab?.removeItem(key))
  attempt(() => stores.device?.removeItem(key))
}
