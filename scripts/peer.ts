/**
 * A headless SkyGit peer in the terminal:
 *   npm run peer -- --hub URL --token T --repo owner/name [--presence file|discussion] [--name SESSION]
 *     [--turn turn:HOST:PORT --turn-user U --turn-credential P] [--data DIR] [--fast] [--json] [--stay]
 * Without --hub it talks to api.github.com with a real token. Each input line is sent to
 * `general`; /who lists peers, /flush commits now if leading, /quit leaves (Ctrl-C too).
 * With --stay it keeps running after input ends: an always-on committer.
 */
// First: V8 settings that must hold before the peer allocates anything.
import "../src/node/heap.js"
import { createInterface } from "node:readline"
import { Effect, Queue, Stream } from "effect"
import { parsePeerArgs, UsageError } from "../src/node/options.js"
import { runPeerCli } from "../src/main/node.js"

let options
try {
  options = parsePeerArgs(process.argv.slice(2))
} catch (e) {
  console.error(e instanceof UsageError || e instanceof Error ? e.message : String(e))
  process.exit(2)
}

const program = Effect.gen(function* () {
  const lines = yield* Queue.unbounded<string>()
  const reader = createInterface({ input: process.stdin })
  reader.on("line", (line) => Queue.unsafeOffer(lines, line))
  if (!options.stay) reader.on("close", () => Queue.unsafeOffer(lines, "/quit"))
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => Queue.unsafeOffer(lines, "/quit"))
  yield* runPeerCli(options, {
    lines: Stream.fromQueue(lines),
    write: (line) => process.stdout.write(`${line}\n`),
    status: (line) => process.stderr.write(`${line}\n`)
  })
  reader.close()
})

Effect.runPromise(program).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(typeof error === "object" && error !== null && "detail" in error ? String(error.detail) : error)
    process.exit(1)
  }
)
