/** Every contract suite against the in-memory adapters. */
import { Effect } from "effect"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { makeConversationRepo } from "../../src/adapters/memory/conversation-repo.js"
import { emptyStoreState, makeMemoryStore } from "../../src/adapters/memory/local-store.js"
import { makeDiscussionPresence, makeFilePresence } from "../../src/adapters/memory/presence.js"
import { MemoryNetwork } from "../../src/adapters/memory/network.js"
import type { PeerId } from "../../src/domain/identity.js"
import { conversationRepoContract } from "./conversation-repo.contract.js"
import { repoSettingsContract } from "./repo-settings.contract.js"
import { makeMemoryRepoSettings } from "../../src/adapters/memory/repo-settings.js"
import { peerTransportContract } from "./peer-transport.contract.js"
import { localStoreContract } from "./local-store.contract.js"
import { presenceContract } from "./presence.contract.js"
import { mediaContract } from "./media.contract.js"
import { makeFakeMediaWorld } from "../../src/adapters/media/fake.js"

const world = () => new MemoryGitHub({ latencyMs: 0 })

presenceContract(
  "memory file",
  "file",
  Effect.sync(() => {
    const w = world()
    return {
      client: (user: string) => Effect.succeed(makeFilePresence(w, user)),
      writeRaw: (_author: string, text: string) =>
        Effect.sync(() => void w.writePresenceFile(text))
    }
  })
)

presenceContract(
  "memory discussion",
  "discussion",
  Effect.sync(() => {
    const w = world()
    return {
      client: (user: string) => Effect.succeed(makeDiscussionPresence(w, user)),
      writeRaw: (author: string, text: string) => Effect.sync(() => w.putComment(author, text))
    }
  })
)

conversationRepoContract(
  "memory",
  Effect.sync(() => {
    const w = world()
    return {
      client: (user: string) => Effect.succeed(makeConversationRepo(w, user)),
      writeRaw: (path: string, content: string) => Effect.sync(() => void w.appendCommit("mallory", 0, [{ path, content }])),
      commitCount: Effect.sync(() => w.commits.length),
      requests: Effect.sync(() => ["alice", "bob"].reduce((n, u) => n + w.statsOf(u).requests + w.statsOf(u).notModified, 0))
    }
  })
)

repoSettingsContract(
  "memory",
  Effect.sync(() => {
    const w = world()
    return {
      client: (user: string) => Effect.succeed(makeMemoryRepoSettings(w, user)),
      writeRaw: (text: string) => Effect.sync(() => void (w.settingsFile = { text, sha: w.nextSha("b") }))
    }
  })
)

localStoreContract(
  "memory",
  Effect.sync(() => {
    const state = emptyStoreState()
    return { open: Effect.sync(() => makeMemoryStore(state)) }
  })
)

peerTransportContract(
  "simulated network",
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.make({ latencyMs: 5, jitterMs: 0 })
    return {
      transport: (self: PeerId) => network.attach(self),
      injectRaw: (from: PeerId, to: PeerId, text: string) => network.injectRaw(from, to, text)
    }
  })
)

mediaContract(
  "in-memory (fake) media",
  Effect.sync(() => {
    const w = makeFakeMediaWorld()
    // Only the pair is connected: a peer outside it has no connection to carry tracks.
    const pairs = new Set<string>()
    w.connected = (x, y) => pairs.has(`${x.username}/${x.sessionId}|${y.username}/${y.sessionId}`)
    return {
      pair: (a: PeerId, b: PeerId) =>
        Effect.gen(function* () {
          pairs.add(`${a.username}/${a.sessionId}|${b.username}/${b.sessionId}`).add(`${b.username}/${b.sessionId}|${a.username}/${a.sessionId}`)
          return { a: yield* w.attach(a), b: yield* w.attach(b) }
        })
    }
  })
)
