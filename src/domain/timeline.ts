/**
 * One conversation as a reader sees it, kept up by deltas: what the device held when the
 * conversation opened, then each new message of it as it arrives, never a whole re-read.
 */
import { mergeQueues, type ConversationId, type Message } from "./message.js"

/** A change to an open conversation: the device's last messages of it, or one new message. */
export type TimelineDelta =
  | { readonly _tag: "Held"; readonly messages: ReadonlyArray<Message> }
  | { readonly _tag: "Added"; readonly message: Message }

/**
 * The shown messages after `delta`: merged by id in message order, of `conversation` only,
 * the newest `limit` kept (older ones are paged in from the repository).
 */
export const applyDelta = (
  shown: ReadonlyArray<Message>,
  delta: TimelineDelta,
  conversation: ConversationId,
  limit: number
): ReadonlyArray<Message> => {
  const added = (delta._tag === "Held" ? delta.messages : [delta.message]).filter((m) => m.conversation === conversation)
  if (added.length === 0) return shown
  const merged = mergeQueues(shown, added)
  return merged.length > limit ? merged.slice(merged.length - limit) : merged
}
