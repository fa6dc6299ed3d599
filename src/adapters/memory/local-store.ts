/**
 * LocalStore in memory: a real implementation (tests and the simulator use it).
 * Durable for as long as the object lives, so a simulated crash that keeps the
 * store models a browser whose IndexedDB survives a closed tab.
 */
import { Array as Arr, Effect } from "effect"
import { canonical, MessageOrder, type ConversationId, type Message } from "../../domain/message.js"
import type { LocalStoreService } from "../../ports/LocalStore.js"

/** The contents of a memory store, exposed for tests and the simulator. */
export interface MemoryStoreState {
  readonly pending: Map<string, Message>
  readonly history: Map<string, Map<string, Message>>
  /** Ids seen committed: a late copy of one is not queued again. */
  readonly committed: Set<string>
}

/** A fresh, empty memory store state. */
export const emptyStoreState = (): MemoryStoreState => ({ pending: new Map(), history: new Map(), committed: new Set() })

/** Keeps one copy per id, the same one `mergeQueues` would keep. */
const put = (into: Map<string, Message>, m: Message): void => {
  const seen = into.get(m.id)
  if (seen === undefined || canonical(m) < canonical(seen)) into.set(m.id, m)
}

/**
 * The pending queue in `MessageOrder`, per state, until it next changes: the leader
 * reads it every tick and a sort per read is most of that work.
 */
const sortedPending = new WeakMap<MemoryStoreState, ReadonlyArray<Message>>()

/** A LocalStore over `state`. */
export const makeMemoryStore = (state: MemoryStoreState = emptyStoreState()): LocalStoreService => {
  const addHistory = (messages: ReadonlyArray<Message>) => {
    for (const m of messages) {
      let conv = state.history.get(m.conversation)
      if (conv === undefined) state.history.set(m.conversation, (conv = new Map()))
      put(conv, m)
    }
  }
  return {
    pending: Effect.sync(() => {
      let sorted = sortedPending.get(state)
      if (sorted === undefined) sortedPending.set(state, (sorted = Arr.sort(state.pending.values(), MessageOrder)))
      return sorted
    }),
    addPending: (messages) =>
      Effect.sync(() => {
        const fresh = messages.filter((m) => !state.committed.has(m.id))
        if (fresh.length > 0) sortedPending.delete(state)
        const added = new Map<string, Message>()
        for (const m of fresh) {
          if (!state.pending.has(m.id) && !added.has(m.id)) added.set(m.id, m)
          put(state.pending, m)
        }
        addHistory(fresh)
        return Array.from(added.values())
      }),
    markCommitted: (messages) =>
      Effect.sync(() => {
        if (messages.length > 0) sortedPending.delete(state)
        for (const m of messages) {
          state.pending.delete(m.id)
          state.committed.add(m.id)
        }
        addHistory(messages)
      }),
    history: (conversation: ConversationId, limit: number) =>
      Effect.sync(() => Arr.sort(state.history.get(conversation)?.values() ?? [], MessageOrder).slice(-Math.max(0, limit)))
  }
}
