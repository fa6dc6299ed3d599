/**
 * A headless peer (scripts/peer.ts with `--json`) in a child process, driven line by line:
 * the benchmark's side of the JSON-lines protocol the terminal speaks.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** The peer script a child runs. */
export const PEER_SCRIPT = fileURLToPath(new URL("../../scripts/peer.ts", import.meta.url))

/** One JSON line a child printed. */
export type ChildEvent = Record<string, unknown> & { readonly event: string; readonly at: number }

/** A peer process and everything it printed. */
export class PeerChild {
  readonly events: Array<ChildEvent> = []
  readonly spawnedAt = Date.now()
  exited: number | null | undefined = undefined
  private readonly waiters = new Set<() => void>()
  private readonly child: ChildProcessWithoutNullStreams
  stderr = ""

  constructor(args: ReadonlyArray<string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", PEER_SCRIPT, "--json", ...args], { stdio: ["pipe", "pipe", "pipe"] })
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent)
      } catch {
        return
      }
      this.notify()
    })
    this.child.stderr.on("data", (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-4_000)))
    this.child.on("exit", (code) => {
      this.exited = code
      this.notify()
    })
  }

  private notify(): void {
    for (const w of this.waiters) w()
  }

  /** Waits for the first event (from index `from` on) that `pick` accepts. */
  waitFor<A>(what: string, pick: (e: ChildEvent) => A | undefined, timeoutMs: number, from = 0): Promise<A> {
    return new Promise((resolve, reject) => {
      const finish = (f: () => void) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        f()
      }
      const check = () => {
        for (const e of this.events.slice(from)) {
          const a = pick(e)
          if (a !== undefined) return finish(() => resolve(a))
        }
        if (this.exited !== undefined) finish(() => reject(new Error(`peer exited (${this.exited}) before ${what}: ${this.stderr}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeoutMs} ms: ${this.stderr}`))), timeoutMs)
      this.waiters.add(check)
      check()
    })
  }

  /** Sends a command and waits for the reply event named `event`. */
  ask(line: string, event: string, timeoutMs: number): Promise<ChildEvent> {
    const from = this.events.length
    this.child.stdin.write(`${line}\n`)
    return this.waitFor(event, (e) => (e.event === event || e.event === "error" ? e : undefined), timeoutMs, from).then((e) =>
      e.event === "error" ? Promise.reject(new Error(`${line}: ${JSON.stringify(e)}`)) : e
    )
  }

  /** Asks the peer to leave and waits for it to exit (killed if it does not). */
  async quit(timeoutMs: number): Promise<void> {
    this.child.stdin.write("/quit\n")
    await this.waitFor("exit", () => (this.exited !== undefined ? true : undefined), timeoutMs).catch(() => this.child.kill("SIGKILL"))
  }

  /** Kills the process at once. */
  kill(): void {
    if (this.exited === undefined) this.child.kill("SIGKILL")
  }
}
