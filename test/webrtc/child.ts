/**
 * Parent side of `fixtures/peer.ts`: spawns the peer process and talks to it
 * line by line. The child is killed when the scope closes.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Deferred, Effect, Option, Queue, type Scope } from "effect"
import type { Description } from "../../src/domain/envelope.js"
import type { PeerId } from "../../src/domain/identity.js"
import type { RemotePeer } from "../../src/ports/PeerTransport.js"

const FIXTURE = fileURLToPath(new URL("./fixtures/peer.ts", import.meta.url))

/** A peer running in a child process. */
export interface ChildPeer {
  readonly self: PeerId
  readonly fingerprint: string
  /** Sends one command and waits for its reply line. */
  readonly request: (command: Record<string, unknown>) => Effect.Effect<{ reply: Description | null; error?: string }>
  /** Sends one command that has no reply. */
  readonly tell: (command: Record<string, unknown>) => Effect.Effect<void>
  /** Everything else the child printed: events, envelopes, rejections. */
  readonly messages: Queue.Queue<Record<string, unknown>>
  /** The child's process id. */
  readonly pid: number
}

/** The child's view of `remote`, as JSON. */
export const remoteJson = (remote: RemotePeer): Record<string, unknown> => ({
  peer: remote.peer,
  fingerprint: Option.getOrNull(remote.fingerprint)
})

/** Spawns `fixtures/peer.ts` as `self` with the given ICE configuration. */
export const spawnPeer = (self: PeerId, config: Record<string, unknown> = {}): Effect.Effect<ChildPeer, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", FIXTURE, self.username, self.sessionId, JSON.stringify(config)], {
          stdio: ["pipe", "pipe", "inherit"]
        })
      ),
      (c) => Effect.sync(() => c.kill("SIGKILL"))
    )
    const replies = yield* Queue.unbounded<{ reply: Description | null; error?: string }>()
    const messages = yield* Queue.unbounded<Record<string, unknown>>()
    const fingerprint = yield* Deferred.make<string, Error>()
    createInterface({ input: child.stdout }).on("line", (line) => {
      let value: Record<string, unknown>
      try {
        value = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      if (typeof value.fingerprint === "string") Deferred.unsafeDone(fingerprint, Effect.succeed(value.fingerprint))
      else if ("reply" in value) Queue.unsafeOffer(replies, value as { reply: Description | null; error?: string })
      else Queue.unsafeOffer(messages, value)
    })
    child.on("exit", (code) => Deferred.unsafeDone(fingerprint, Effect.fail(new Error(`peer process exited with ${code}`))))
    const tell = (command: Record<string, unknown>) => Effect.sync(() => void child.stdin.write(`${JSON.stringify(command)}\n`))
    return {
      self,
      fingerprint: yield* Deferred.await(fingerprint),
      pid: child.pid ?? -1,
      messages,
      tell,
      request: (command) => tell(command).pipe(Effect.zipRight(Queue.take(replies)))
    }
  })

/** Takes the child's messages until one satisfies `pick`. */
export const awaitMessage = <A>(peer: ChildPeer, pick: (m: Record<string, unknown>) => A | undefined): Effect.Effect<A> =>
  Queue.take(peer.messages).pipe(
    Effect.map(pick),
    Effect.repeat({ until: (a): a is A => a !== undefined }),
    Effect.map((a) => a as A)
  )
