/**
 * A real coturn on loopback for tests: free listening port, its own relay port
 * range, long-term credentials. Needs /usr/bin/turnserver (Debian `coturn`).
 */
import { spawn } from "node:child_process"
import { createServer } from "node:net"
import { createInterface } from "node:readline"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Deferred, Effect, type Scope } from "effect"

/** Where Debian installs coturn. */
export const TURNSERVER = "/usr/bin/turnserver"
/** Relay ports given to one test server. */
const RELAY_PORT_SPAN = 40
/** coturn prints this once its listeners and relay threads are up. */
const READY_LINE = "Total General servers"

/** A running TURN server and the RTCIceServer that reaches it. */
export interface Turn {
  readonly iceServer: RTCIceServer
}

const freePort = Effect.async<number, Error>((resume) => {
  const server = createServer()
  server.once("error", (e) => resume(Effect.fail(e)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts coturn on loopback; it is killed when the scope closes. */
export const startTurn: Effect.Effect<Turn, Error, Scope.Scope> = Effect.gen(function* () {
  const port = yield* freePort
  const minPort = 40_000 + Math.floor(Math.random() * 200) * RELAY_PORT_SPAN
  const user = "skygit"
  const pass = `pw${Math.random().toString(36).slice(2)}`
  const ready = yield* Deferred.make<void, Error>()
  const args = [
    "-n",
    "--listening-ip=127.0.0.1",
    `--listening-port=${port}`,
    "--relay-ip=127.0.0.1",
    `--min-port=${minPort}`,
    `--max-port=${minPort + RELAY_PORT_SPAN - 1}`,
    "--lt-cred-mech",
    `--user=${user}:${pass}`,
    "--realm=skygit.local",
    "--fingerprint",
    "--no-tls",
    "--no-dtls",
    "--no-cli",
    "--allow-loopback-peers",
    "--log-file=stdout",
    `--pidfile=${join(tmpdir(), `skygit-turn-${port}.pid`)}`,
    `--userdb=${join(tmpdir(), `skygit-turn-${port}.db`)}`
  ]
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => spawn(TURNSERVER, args, { stdio: ["ignore", "pipe", "pipe"] })),
    (c) => Effect.sync(() => c.kill("SIGKILL"))
  )
  child.on("error", (e) => Deferred.unsafeDone(ready, Effect.fail(e)))
  child.on("exit", (code) => Deferred.unsafeDone(ready, Effect.fail(new Error(`turnserver exited with ${code}`))))
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.includes(READY_LINE)) Deferred.unsafeDone(ready, Effect.void)
  })
  yield* Deferred.await(ready)
  return { iceServer: { urls: [`turn:127.0.0.1:${port}?transport=udp`], username: user, credential: pass } }
})
