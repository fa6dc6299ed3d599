/**
 * A headless Node peer: the app's services (startPeer) on Node layers. `runPeer` starts
 * one in the current scope (tests start peers in-process with it); `runPeerCli` adds the
 * terminal and runs until `/quit`, end of input or a signal, then closes the scope, which
 * flushes if this peer leads, says goodbye to the mesh and withdraws its presence entry.
 */
import { Deferred, Effect, Exit, Scope } from "effect"
import { startPeer, type PeerHandle } from "../app/peer.js"
import { startBenchAgent, type BenchAgent } from "./bench-agent.js"
import { makeNodeServices, type NodePeerError, type NodeServices } from "./layers.js"
import type { NodePeerOptions } from "./options.js"
import { startTerminal, type TerminalIo } from "./terminal.js"

/** A running Node peer. */
export interface RunningPeer extends NodeServices {
  readonly handle: PeerHandle
  /** Epoch ms when the peer's services started. */
  readonly startedAt: number
  /** Present when started with `bench`. */
  readonly bench: BenchAgent | undefined
}

/** Starts a Node peer in the current scope. */
export const runPeer = (options: NodePeerOptions): Effect.Effect<RunningPeer, NodePeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const services = yield* makeNodeServices(options)
    const startedAt = Date.now()
    const handle = yield* startPeer({ self: services.self, config: options.config }).pipe(Effect.provide(services.context))
    const bench = options.bench ? yield* startBenchAgent(services.self, services.transport) : undefined
    return { ...services, handle, startedAt, bench }
  })

/** Runs a Node peer with its terminal until it is told to stop; resolves once it has left cleanly. */
export const runPeerCli = (options: NodePeerOptions, io: TerminalIo): Effect.Effect<void, NodePeerError> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const stop = yield* Deferred.make<void>()
    const exit = yield* Effect.exit(
      Effect.gen(function* () {
        const peer = yield* runPeer(options)
        yield* startTerminal(peer, options, io, Deferred.succeed(stop, undefined))
        yield* Deferred.await(stop)
        io.status("leaving: flushing if leader, saying goodbye")
      }).pipe(Scope.extend(scope))
    )
    yield* Scope.close(scope, Exit.void)
    if (Exit.isFailure(exit)) return yield* exit
    io.status("left")
  })
