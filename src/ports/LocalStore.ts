/**
 * LocalStore port: what a peer keeps on its own device, durably: the pending
 * queue (messages it holds that it has not seen committed) and the history.
 */
import { Context, Schema, type Effect } from "effect"
import type { ConversationId, Message } from "../domain/message.js"
import { withCause } from "./errors.js"

/** The device storage failed (quota, I/O, corrupt data that could not be recovered). */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", withCause) {}

/** A peer's durable state on its device. */
export interface LocalStoreService {
  /** Every message held but not yet seen committed, in `MessageOrder`. */
  readonly pending: Effect.Effect<ReadonlyArray<Message>, StoreError>
  /**
   * Adds messages to the pending queue and the history (idempotent by id; ids already seen
   * committed are ignored). Answers the messages new to this store, each id once: those it held
   * neither pending nor committed before.
   */
  readonly addPending: (messages: ReadonlyArray<Message>) => Effect.Effect<ReadonlyArray<Message>, StoreError>
  /** Records messages seen committed: they leave the pending queue and stay in the history. */
  readonly markCommitted: (messages: ReadonlyArray<Message>) => Effect.Effect<void, StoreError>
  /** The last `limit` messages of a conversation, committed or not, in `MessageOrder`. */
  readonly history: (conversation: ConversationId, limit: number) => Effect.Effect<ReadonlyArray<Message>, StoreError>
}

/** The local store service. */
export class LocalStore extends Context.Tag("skygit/LocalStore")<LocalStore, LocalStoreService>() {}
