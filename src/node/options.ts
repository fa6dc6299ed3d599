/**
 * Options of a headless Node peer, from the command line:
 *   --hub URL --token T --repo owner/name [--presence file|discussion] [--name SESSION]
 *   [--turn turn:HOST:PORT --turn-user U --turn-credential P] [--stun stun:HOST:PORT] [--relay-only]
 *   [--data DIR] [--branch skygit] [--fast] [--config key=value ...] [--json] [--bench] [--stay]
 * Timing overrides also come from the SKYGIT_PEER_CONFIG environment variable (JSON).
 */
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { defaultPeerConfig, type PeerConfig } from "../app/config.js"

/** GitHub's API, used when no `--hub` is given (a real token; never in tests). */
export const GITHUB_API = "https://api.github.com"
/** Where peers keep their stores unless `--data` says otherwise. */
export const DEFAULT_DATA_ROOT = ".data/peer"

/**
 * Timing for tests and local demos: a joiner polls every 0.5 s (0.25 s while signaling through
 * presence), a silent neighbor is gone after 4 s, and the leader commits 5 s after a message.
 */
export const FAST_PEER_CONFIG: Partial<PeerConfig> = {
  pollBaseMs: 2_000,
  pollFastMs: 500,
  pollAwaitMs: 250,
  meshHeartbeatMs: 1_000,
  meshExpiryMs: 4_000,
  leaderGraceMs: 5_000,
  commitAfterMs: 5_000,
  handoffResendMs: 10_000,
  reconnectBaseMs: 500,
  reconnectMaxMs: 5_000,
  signalTimeoutMs: 15_000,
  tickMs: 250
}

/** Everything a headless peer needs to join one repository's mesh. */
export interface NodePeerOptions {
  /** GitHub's API origin or the local hub's URL. */
  readonly api: string
  readonly token: string
  /** "owner/name". */
  readonly repository: string
  readonly presence: "file" | "discussion"
  /** This session's id (the username comes from the token). */
  readonly session: string
  readonly iceServers: ReadonlyArray<RTCIceServer>
  readonly relayOnly: boolean
  /** Directory of the durable store; default DEFAULT_DATA_ROOT/owner--name/login (known once the token is checked). */
  readonly dataDir: string | undefined
  readonly branch: string | undefined
  /** Overrides of the default timing. */
  readonly config: Partial<PeerConfig>
  /** One JSON object per output line (tests, benchmark) instead of text for people. */
  readonly json: boolean
  /** Answer the benchmark's ping and bulk envelopes and accept its commands. */
  readonly bench: boolean
  /** Keep running when input ends (an always-on committer started without a terminal). */
  readonly stay: boolean
}

/** A command line that cannot be run, with the reason. */
export class UsageError extends Error {}

const SESSION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

const configKeys = new Set(Object.keys(defaultPeerConfig))

/** Parses `key=value` timing overrides; unknown keys and non-numbers are usage errors. */
export const parseConfig = (pairs: ReadonlyArray<string>, base: Partial<PeerConfig> = {}): Partial<PeerConfig> => {
  const out: Record<string, number> = { ...base }
  for (const pair of pairs) {
    const [key, value] = pair.split("=")
    const n = Number(value)
    if (key === undefined || !configKeys.has(key) || !Number.isFinite(n) || n <= 0) throw new UsageError(`bad --config ${pair} (keys: ${[...configKeys].join(", ")})`)
    out[key] = n
  }
  return out as Partial<PeerConfig>
}

const envConfig = (text: string | undefined): Partial<PeerConfig> => {
  if (text === undefined || text.trim() === "") return {}
  const parsed = JSON.parse(text) as Record<string, unknown>
  return parseConfig(Object.entries(parsed).map(([k, v]) => `${k}=${String(v)}`))
}

/** The default store directory of `login` in `repository`. */
export const defaultDataDir = (repository: string, login: string): string => join(DEFAULT_DATA_ROOT, repository.replace("/", "--"), login.toLowerCase())

/** Reads the command line (and SKYGIT_PEER_CONFIG) into options; throws UsageError. */
export const parsePeerArgs = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): NodePeerOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      hub: { type: "string" },
      token: { type: "string" },
      repo: { type: "string" },
      presence: { type: "string", default: "file" },
      name: { type: "string" },
      turn: { type: "string", multiple: true },
      "turn-user": { type: "string" },
      "turn-credential": { type: "string" },
      stun: { type: "string", multiple: true },
      "relay-only": { type: "boolean", default: false },
      data: { type: "string" },
      branch: { type: "string" },
      fast: { type: "boolean", default: false },
      config: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
      bench: { type: "boolean", default: false },
      stay: { type: "boolean", default: false }
    },
    strict: true
  })
  const token = values.token ?? env.GITHUB_TOKEN
  if (token === undefined || token === "") throw new UsageError("--token is required (or GITHUB_TOKEN)")
  const repository = values.repo
  if (repository === undefined || !/^[^/\s]+\/[^/\s]+$/.test(repository)) throw new UsageError("--repo owner/name is required")
  if (values.presence !== "file" && values.presence !== "discussion") throw new UsageError("--presence must be file or discussion")
  const session = values.name ?? `node-${randomBytes(6).toString("hex")}`
  if (!SESSION_PATTERN.test(session)) throw new UsageError("--name must be 1-64 letters, digits, - or _")
  const turn: Array<RTCIceServer> = (values.turn ?? []).map((url) => ({
    urls: url,
    ...(values["turn-user"] === undefined ? {} : { username: values["turn-user"] }),
    ...(values["turn-credential"] === undefined ? {} : { credential: values["turn-credential"] })
  }))
  const stun: Array<RTCIceServer> = (values.stun ?? []).map((url) => ({ urls: url }))
  const base = { ...(values.fast ? FAST_PEER_CONFIG : {}), ...envConfig(env.SKYGIT_PEER_CONFIG) }
  return {
    api: values.hub ?? GITHUB_API,
    token,
    repository,
    presence: values.presence,
    session,
    iceServers: [...stun, ...turn],
    relayOnly: values["relay-only"],
    dataDir: values.data,
    branch: values.branch,
    config: parseConfig(values.config ?? [], base),
    json: values.json,
    bench: values.bench,
    stay: values.stay
  }
}
