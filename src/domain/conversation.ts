/**
 * Conversations by kind: the shared `general`, named topics people create, and the
 * direct conversation of two users. A name typed by a person becomes an id through
 * `namedConversation`; an id from anywhere else (a peer, a folder of the repository)
 * is checked by `parseConversationId`. Either way the id matches `ConversationId`,
 * which admits no `/`, `.` or `%`, so no conversation can name a path outside its
 * own folder of `.messages/`.
 */
import { Either, Option, Schema } from "effect"
import { sameUser, Username } from "./identity.js"
import { ConversationId } from "./message.js"

/** The conversation everyone is in. */
export const GENERAL = ConversationId.make("general")
/** Longest name a person may type for a new conversation (the id allows 96; topics stay short). */
export const MAX_CONVERSATION_NAME = 64
/** Direct conversation ids start with this; a named conversation may not. */
export const DIRECT_PREFIX = "dm--"

/** What a conversation id names. */
export type ConversationKind =
  | { readonly _tag: "general" }
  | { readonly _tag: "named"; readonly name: string }
  | { readonly _tag: "direct"; readonly users: readonly [Username, Username] }

const decodeId = Schema.decodeUnknownEither(ConversationId)
const decodeUser = Schema.decodeUnknownEither(Username)

/** What an id names, or none when it is a malformed direct id (`dm--x` without two logins in order). */
export const kindOf = (id: ConversationId): Option.Option<ConversationKind> => {
  if (id === GENERAL) return Option.some({ _tag: "general" })
  if (!id.startsWith(DIRECT_PREFIX)) return Option.some({ _tag: "named", name: id })
  const parts = id.slice(DIRECT_PREFIX.length).split("--")
  if (parts.length !== 2) return Option.none()
  const [a, b] = parts as [string, string]
  const ua = decodeUser(a)
  const ub = decodeUser(b)
  // directConversation writes the two logins lower-cased and sorted: anything else is not one of ours.
  if (Either.isLeft(ua) || Either.isLeft(ub) || !(a < b) || a !== a.toLowerCase() || b !== b.toLowerCase()) return Option.none()
  return Option.some({ _tag: "direct", users: [ua.right, ub.right] })
}

/** An id from outside (a peer, a repository folder): a valid conversation id of a known kind, or why not. */
export const parseConversationId = (raw: unknown): Either.Either<ConversationId, string> => {
  if (typeof raw !== "string") return Either.left("a conversation id must be text")
  if (raw.length > 96) return Either.left(`a conversation id is at most 96 characters (got ${raw.length})`)
  const id = decodeId(raw)
  if (Either.isLeft(id)) return Either.left(`not a conversation id: ${JSON.stringify(raw.slice(0, 40))}`)
  return Option.isSome(kindOf(id.right)) ? Either.right(id.right) : Either.left(`not a direct conversation id: ${JSON.stringify(raw.slice(0, 40))}`)
}

/**
 * The id of a named conversation typed by a person: lower-cased, every run of other
 * characters folded to one `-`. Refused when empty, longer than MAX_CONVERSATION_NAME,
 * or shaped like a direct conversation.
 */
export const namedConversation = (name: string): Either.Either<ConversationId, string> => {
  const trimmed = name.trim()
  if (trimmed.length > MAX_CONVERSATION_NAME) return Either.left(`a conversation name is at most ${MAX_CONVERSATION_NAME} characters`)
  const slug = trimmed
    .toLowerCase()
    .replace(/^#+/, "")
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^[-_]+|-+$/g, "")
  if (slug === "") return Either.left("a conversation name needs a letter or a digit")
  if (slug.startsWith("dm-")) return Either.left("names starting with dm- are kept for direct messages")
  return Either.mapLeft(parseConversationId(slug), () => "that name cannot be used")
}

/** Whether `user` takes part in a conversation: everyone in general and named ones, the two users of a direct one. */
export const involves = (id: ConversationId, user: string): boolean =>
  Option.match(kindOf(id), {
    onNone: () => false,
    onSome: (k) => k._tag !== "direct" || k.users.some((u) => sameUser(u, user))
  })

/** The other user of a direct conversation as seen by `self`; none for other kinds. */
export const otherUser = (id: ConversationId, self: string): Option.Option<Username> =>
  Option.flatMap(kindOf(id), (k) => {
    if (k._tag !== "direct") return Option.none()
    const [a, b] = k.users
    return Option.some(sameUser(a, self) ? b : a)
  })

/** How a conversation is titled for `self`: `# name`, or `@ login` for a direct one. */
export const titleOf = (id: ConversationId, self: string): string =>
  Option.match(otherUser(id, self), { onNone: () => `# ${id}`, onSome: (u) => `@ ${u}` })
