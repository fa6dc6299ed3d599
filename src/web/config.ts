/**
 * What the page is told by the server that serves it (`/config.json`): which API to talk to,
 * and on the local hub the demo users' tokens. Shared by the Node server and the page.
 */
import type { PeerConfig } from "../app/config.js"

/** The path the server answers with a `WebConfig`. */
export const CONFIG_PATH = "/config.json"

/** A demo account of the local hub. */
export interface DemoUser {
  readonly login: string
  readonly token: string
}

/** The page's configuration. */
export interface WebConfig {
  /** `https://api.github.com` or the local hub's URL. */
  readonly api: string
  /** True on the embedded local hub. */
  readonly local: boolean
  /** Accounts to sign in with one click (local hub only). */
  readonly demoUsers: ReadonlyArray<DemoUser>
  /** A token given to `npm start` (GITHUB_TOKEN), offered as the default. */
  readonly token: string | undefined
  /** The repository to preselect, "owner/name". */
  readonly defaultRepository: string | undefined
  /** Timing overrides (the local demo uses fast timing). */
  readonly peerConfig: Partial<PeerConfig>
  /** STUN/TURN servers. */
  readonly iceServers: ReadonlyArray<RTCIceServer>
}

/** GitHub's API, which the static build talks to. */
export const GITHUB_API = "https://api.github.com"

/**
 * The static build's configuration (`npm run build`, for GitHub Pages or any static host):
 * GitHub itself, a token the user pastes, GitHub's timing, the user's own ICE settings.
 */
export const STATIC_CONFIG: WebConfig = {
  api: GITHUB_API,
  local: false,
  demoUsers: [],
  token: undefined,
  defaultRepository: undefined,
  peerConfig: {},
  iceServers: []
}

/** The vite mode of `npm run build`, whose page has no server to ask for `/config.json`. */
export const STATIC_MODE = "static"

/** True in the static build (vite replaces `import.meta.env` at build time; elsewhere it is absent). */
const isStaticBuild = (): boolean => (import.meta as { readonly env?: { readonly MODE?: string } }).env?.MODE === STATIC_MODE

/** Reads the page's configuration from its server, or the static build's own. */
export const loadConfig = async (): Promise<WebConfig> => {
  if (isStaticBuild()) return STATIC_CONFIG
  const response = await fetch(CONFIG_PATH, { cache: "no-store" })
  if (!response.ok) throw new Error(`${CONFIG_PATH} answered ${response.status}`)
  return (await response.json()) as WebConfig
}
