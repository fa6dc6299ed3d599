/**
 * Where each shown message stands (sending, delivered, saved), as signals: the states the
 * peer pushes as they change, and for a message it never pushed (history, an earlier
 * session) the peer's answer when the message is first shown.
 */
import { createSignal } from "solid-js"
import type { MessageState } from "../app/message-state.js"
import type { PeerHandle } from "../app/peer.js"
import type { Message } from "../domain/message.js"
import { onEach, run } from "./bridge.js"

/** States kept for the page at most (oldest forgotten first; they are asked for again if shown). */
export const MAX_STATES_KEPT = 5_000

/** A reader of message states that stays current while the owning Solid scope lives. */
export const trackMessageStates = (peer: Pick<PeerHandle, "statuses" | "stateOf">): ((m: Message) => MessageState | undefined) => {
  const [states, setStates] = createSignal<Map<string, MessageState>>(new Map(), { equals: false })
  const asked = new Set<string>()
  const put = (id: string, state: MessageState, onlyIfUnknown: boolean) =>
    setStates((map) => {
      if (onlyIfUnknown && map.has(id)) return map
      map.delete(id)
      map.set(id, state)
      if (map.size > MAX_STATES_KEPT) {
        const oldest = map.keys().next().value!
        map.delete(oldest)
        asked.delete(oldest)
      }
      return map
    })
  // Pushed states only move forward, so the latest push is the truth.
  onEach(peer.statuses, (s) => put(s.id, s.state, false))
  return (m) => {
    const known = states().get(m.id)
    if (known === undefined && !asked.has(m.id)) {
      asked.add(m.id)
      // An answer that arrives after a push is older than it: it does not replace it.
      run(peer.stateOf(m)).then((s) => put(m.id, s, true), () => asked.delete(m.id))
    }
    return known
  }
}
