/**
 * The app room: what `npm start` runs (Node side): without a GitHub token, the embedded local hub with
 * demo users and a demo repository (on disk, so history survives restarts); then the web
 * client, built with vite and served statically on loopback with its `/config.json`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { readFile, stat } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { extname, join, resolve, sep } from "node:path"
import { build } from "vite"
import { createHub, serveHub, type Hub } from "../hub/index.js"
import { FAST_PEER_CONFIG } from "../node/options.js"
import { CONFIG_PATH, GITHUB_API, type WebConfig } from "../web/config.js"

/** GitHub's API, used when a token is given. */
export { GITHUB_API }

/** How to run SkyGit. */
export interface AppOptions {
  /** A GitHub token: the client then targets api.github.com and no hub starts. */
  readonly githubToken?: string | undefined
  /** Where the local hub keeps repositories and tokens. */
  readonly hubDataDir: string
  readonly users: ReadonlyArray<string>
  readonly repository: string
  readonly host: string
  /** 0 picks a free port. */
  readonly hubPort: number
  readonly webPort: number
  /** Where the client is built to. */
  readonly outDir: string
  /** GitHub behaviours the local hub shows (`--fault NAME[:ARG]` of `npm run hub`), for tests. */
  readonly hubFaults?: ReadonlyArray<string>
}

/** A running SkyGit. */
export interface RunningApp {
  readonly webUrl: string
  readonly hubUrl: string | undefined
  /** The embedded hub (tests inject faults through it). */
  readonly hub: Hub | undefined
  readonly tokens: Readonly<Record<string, string>>
  readonly close: () => Promise<void>
}

const ROOT = resolve(import.meta.dirname, "../..")

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json"
}

/** Listens on `port`, or on a free one when that is taken. */
const listen = async (server: Server, host: string, port: number): Promise<number> => {
  const attempt = (p: number) =>
    new Promise<void>((ok, fail) => {
      server.once("error", fail)
      server.listen(p, host, () => {
        server.off("error", fail)
        ok()
      })
    })
  try {
    await attempt(port)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || port === 0) throw e
    await attempt(0)
  }
  return (server.address() as AddressInfo).port
}

/** Serves the built client and its configuration; unknown paths get index.html (one-page app). */
/**
 * Whether a request names this server by its own address: a page on another origin that
 * rebinds its DNS name to 127.0.0.1 sends its own Host, and is refused (issue 9).
 */
export const hostAllowed = (host: string | undefined, bound: string, port: number): boolean => {
  if (host === undefined) return false
  const own = new Set([`${bound}:${port}`])
  if (bound === "127.0.0.1" || bound === "localhost" || bound === "::1") for (const h of ["127.0.0.1", "localhost", "[::1]"]) own.add(`${h}:${port}`)
  return own.has(host.toLowerCase())
}

const serveClient = (dir: string, config: WebConfig, address: { host: string; port: number }): Server =>
  createServer((req, res) => {
    if (!hostAllowed(req.headers.host, address.host, address.port)) {
      res.writeHead(421, { "content-type": "text/plain" }).end("Misdirected request: this server answers only its own address")
      return
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)
    if (path === CONFIG_PATH) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(config))
      return
    }
    const file = resolve(dir, `.${path}`)
    const inside = file === dir || file.startsWith(dir + sep)
    void (async () => {
      const target = inside && (await stat(file).then((s) => s.isFile(), () => false)) ? file : join(dir, "index.html")
      const body = await readFile(target)
      res.writeHead(200, { "content-type": CONTENT_TYPES[extname(target)] ?? "application/octet-stream", "cache-control": "no-cache" }).end(body)
    })().catch((e: unknown) => res.writeHead(500).end(String(e)))
  })

/** Starts the hub (unless a token is given) and the client. */
export const startApp = async (options: AppOptions): Promise<RunningApp> => {
  const closers: Array<() => Promise<void>> = []
  let hubUrl: string | undefined
  let hub: Hub | undefined
  let tokens: Record<string, string> = {}
  if (options.githubToken === undefined) {
    const dataDir = resolve(options.hubDataDir)
    mkdirSync(dataDir, { recursive: true })
    const tokenFile = join(dataDir, "tokens.json")
    const saved = existsSync(tokenFile) ? (JSON.parse(readFileSync(tokenFile, "utf8")) as Record<string, string>) : {}
    const local = await createHub({ users: options.users, repos: [options.repository], tokens: saved, dataDir, faults: options.hubFaults ?? [] })
    hub = local
    tokens = Object.fromEntries(options.users.map((u) => [u, local.tokenOf(u)]))
    writeFileSync(tokenFile, JSON.stringify(tokens, null, 2))
    const served = await serveHub(local, { port: options.hubPort, host: options.host }).catch(() => serveHub(local, { port: 0, host: options.host }))
    hubUrl = served.url
    closers.push(served.close)
  }
  const config: WebConfig = {
    api: hubUrl ?? GITHUB_API,
    local: hubUrl !== undefined,
    demoUsers: Object.entries(tokens).map(([login, token]) => ({ login, token })),
    // No server of SkyGit's holds or serves a GitHub token: the page asks for it (issue 9).
    token: undefined,
    defaultRepository: hubUrl === undefined ? undefined : options.repository,
    // The local demo uses the fast timing of tests: people meet in a second or two, history is committed 5 s after a message.
    peerConfig: hubUrl === undefined ? {} : FAST_PEER_CONFIG,
    iceServers: []
  }
  const outDir = resolve(options.outDir)
  await build({ configFile: join(ROOT, "vite.config.ts"), logLevel: "warn", build: { outDir, emptyOutDir: true } })
  const address = { host: options.host, port: 0 }
  const server = serveClient(outDir, config, address)
  const port = await listen(server, options.host, options.webPort)
  address.port = port
  closers.push(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections()
        server.close(() => ok())
      })
  )
  return {
    webUrl: `http://${options.host}:${port}/`,
    hubUrl,
    hub,
    tokens,
    close: async () => {
      for (const close of closers.reverse()) await close()
    }
  }
}
