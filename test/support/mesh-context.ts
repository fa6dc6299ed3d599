/**
 * A mesh manager's context for driving `src/app/mesh.ts` handlers one call at a time: the
 * actor and forks run inline, file-form presence, an empty memory store, and the transport and
 * state the test gives.
 */
import { Effect } from "effect"
import { defaultPeerConfig } from "../../src/app/config.js"
import type { PeerContext } from "../../src/app/context.js"
import type { PeerState } from "../../src/app/peer-state.js"
import type { PeerId } from "../../src/domain/identity.js"
import type { PeerTransportService } from "../../src/ports/PeerTransport.js"
import { makeMemoryStore } from "../../src/adapters/memory/local-store.js"

export const meshContext = (self: PeerId, state: PeerState, transport: PeerTransportService, wakePoller: Effect.Effect<void> = Effect.void): PeerContext =>
  ({
    self,
    config: defaultPeerConfig,
    state,
    transport,
    store: makeMemoryStore(),
    presence: { form: "file" },
    inActor: (effect: Effect.Effect<void>) => effect,
    fork: (effect: Effect.Effect<void, unknown>) => Effect.ignore(effect),
    wakePoller,
    nudge: Effect.void
  }) as unknown as PeerContext
