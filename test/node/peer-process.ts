/**
 * Test helpers: a local hub served on loopback, and headless peers (scripts/peer.ts) in
 * child processes speaking JSON lines. Every process is killed when the test ends.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach } from "vitest"
import { createHub, serveHub, type Hub } from "../../src/hub/index.js"

/** The peer script the processes run. */
export const PEER_SCRIPT = fileURLToPath(new URL("../../scripts/peer.ts", import.meta.url))
/** The repository every test works on. */
export const REPO = "demo/chat"
/** How long a test waits for any one thing before it fails with what it saw. */
export const WAIT_MS = 30_000

/** One JSON line a peer printed. */
export type PeerEvent = Record<string, unknown> & { readonly event: string; readonly at: number }

/** A served hub and its teardown. */
export interface TestHub {
  readonly hub: Hub
  readonly url: string
  readonly close: () => Promise<void>
}

/** A hub for alice, bob and carol hosting demo/chat, on 127.0.0.1:0. */
export const startHub = async (users: ReadonlyArray<string> = ["alice", "bob", "carol"]): Promise<TestHub> => {
  const hub = await createHub({ users, repos: [REPO] })
  const server = await serveHub(hub, { port: 0 })
  return { hub, url: server.url, close: server.close }
}

/** A peer process. */
export class PeerProcess {
  readonly events: Array<PeerEvent> = []
  private readonly waiters = new Set<() => void>()
  exited: number | null | undefined = undefined
  stderr = ""

  private constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as PeerEvent)
      } catch {
        return
      }
      for (const w of this.waiters) w()
    })
    child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4_000)
    })
    child.on("exit", (code) => {
      this.exited = code
      for (const w of this.waiters) w()
    })
  }

  /** Spawns `node --import tsx scripts/peer.ts` as `user` with fast timing and JSON output. */
  static spawn(hub: TestHub, user: string, session: string, extra: ReadonlyArray<string> = []): PeerProcess {
    const data = mkdtempSync(join(tmpdir(), `skygit-peer-${user}-`))
    const args = ["--import", "tsx", PEER_SCRIPT, "--hub", hub.url, "--token", hub.hub.tokenOf(user), "--repo", REPO, "--name", session, "--data", data, "--fast", "--json", ...extra]
    return new PeerProcess(`${user}/${session}`, spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] }))
  }

  /**
   * Spawns `node --import tsx scripts/peer.ts` with JSON output and the given arguments, behind
   * `prefix` (e.g. `ip netns exec NS`, to run it in another network namespace).
   */
  static spawnWith(name: string, prefix: ReadonlyArray<string>, args: ReadonlyArray<string>): PeerProcess {
    const all = [...prefix, process.execPath, "--import", "tsx", PEER_SCRIPT, "--json", ...args]
    return new PeerProcess(name, spawn(all[0]!, all.slice(1), { stdio: ["pipe", "pipe", "pipe"] }))
  }

  /**
   * Spawns the peer through the `tsx` command line, as `npm run peer` does: signals reach
   * the wrapper, which relays them to the peer.
   */
  static spawnCli(hub: TestHub, user: string, session: string, extra: ReadonlyArray<string> = []): PeerProcess {
    const data = mkdtempSync(join(tmpdir(), `skygit-peer-${user}-`))
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url))
    const args = [PEER_SCRIPT, "--hub", hub.url, "--token", hub.hub.tokenOf(user), "--repo", REPO, "--name", session, "--data", data, "--fast", "--json", ...extra]
    return new PeerProcess(`${user}/${session}`, spawn(tsx, args, { stdio: ["pipe", "pipe", "pipe"] }))
  }

  /** Waits until an event satisfies `pick` (events already printed count) and returns what `pick` found. */
  waitFor<A>(what: string, pick: (e: PeerEvent) => A | undefined, timeoutMs = WAIT_MS): Promise<A> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const e of this.events) {
          const a = pick(e)
          if (a !== undefined) return finish(() => resolve(a))
        }
        if (this.exited !== undefined) finish(() => reject(new Error(`${this.name} exited (${this.exited}) before ${what}\n${this.stderr}`)))
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last events:\n${this.events.slice(-5).map((e) => JSON.stringify(e)).join("\n")}\n${this.stderr}`))),
        timeoutMs
      )
      const finish = (f: () => void) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        f()
      }
      this.waiters.add(check)
      check()
    })
  }

  /** The latest view event, if any. */
  lastView(): PeerEvent | undefined {
    return this.events.filter((e) => e.event === "view").at(-1)
  }

  /** Waits until the view shows open links to exactly `peers` (session keys), and returns when it first did. */
  waitOpen(peers: ReadonlyArray<string>, timeoutMs = WAIT_MS): Promise<number> {
    const want = [...peers].sort().join(",")
    return this.waitFor(`open links to ${want}`, (e) => (e.event === "view" && openOf(e).join(",") === want ? e.at : undefined), timeoutMs)
  }

  /** Waits for a chat message with `text`. */
  waitMessage(text: string, timeoutMs = WAIT_MS): Promise<PeerEvent> {
    return this.waitFor(`message "${text}"`, (e) => (e.event === "message" && e.text === text ? e : undefined), timeoutMs)
  }

  /** Writes one input line (a chat message or a command). */
  say(line: string): void {
    this.child.stdin.write(`${line}\n`)
  }

  /** Its process id. */
  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Sends `/quit` and waits for the process to exit. */
  async quit(timeoutMs = WAIT_MS): Promise<number | null> {
    this.say("/quit")
    await this.waitFor("exit", () => (this.exited !== undefined ? true : undefined), timeoutMs).catch(() => undefined)
    return this.exited ?? null
  }

  /** Kills the process at once (no goodbye, no flush), as a crash would. */
  kill9(): void {
    this.child.kill("SIGKILL")
  }
}

/** Session keys with an open link in a view event. */
export const openOf = (view: PeerEvent): ReadonlyArray<string> =>
  ((view.links as ReadonlyArray<{ peer: string; state: string }> | undefined) ?? []).filter((l) => l.state === "open").map((l) => l.peer).sort()

/** Kills every process that is still running. */
export const killAll = (peers: ReadonlyArray<PeerProcess>): void => {
  for (const p of peers) if (p.exited === undefined) p.kill9()
}

/** The presence file with `n` made-up entries added, all fresh, each with a fingerprint. */
export const withFakes = (text: string | undefined, n: number, at: number): string => {
  const doc = JSON.parse(text ?? '{"version":1,"entries":[],"signals":[]}') as { entries: Array<unknown> }
  const hex = (i: number) => Array.from({ length: 32 }, (_, k) => ((i * 31 + k * 7) % 256).toString(16).padStart(2, "0").toUpperCase()).join(":")
  for (let i = 0; i < n; i++) {
    doc.entries.push({ username: i % 2 === 0 ? "aa-fake" : "zz-fake", session_id: `f${i}`, last_seen: new Date(at).toISOString(), fingerprint: `sha-256 ${hex(i)}` })
  }
  return JSON.stringify(doc)
}

/**
 * The peers and hubs a test file starts, killed and closed after each of its tests
 * (registered with vitest's afterEach): push what a test starts onto them.
 */
export const stopAfterEach = (): { readonly running: Array<PeerProcess>; readonly hubs: Array<TestHub> } => {
  const running: Array<PeerProcess> = []
  const hubs: Array<TestHub> = []
  afterEach(async () => {
    killAll(running.splice(0))
    await Promise.all(hubs.splice(0).map((h) => h.close()))
  })
  return { running, hubs }
}
