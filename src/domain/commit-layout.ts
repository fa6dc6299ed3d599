/**
 * How messages map to files in the repository. Every flush writes new files only:
 * `.messages/<conversation>/<yyyy-mm-dd>/<commit time>-<batch hash>.jsonl`, one JSON
 * message per line, UTF-8. Appending k messages writes O(k) bytes however long the
 * history is, no file ever grows past one batch, and "what was committed since t"
 * is answered from file names alone.
 */
import { Array as Arr, Either, Option, ParseResult, Schema } from "effect"
import { Message, MessageOrder, type ConversationId } from "./message.js"

/** The folder SkyGit owns in the repository. */
export const MESSAGES_ROOT = ".messages"
/** The presence document in file form. */
export const PRESENCE_PATH = `${MESSAGES_ROOT}/presence.json`

/** A file to write: its path and its UTF-8 text. */
export interface FileWrite {
  readonly path: string
  readonly content: string
}

const encodeMessage = Schema.encodeSync(Message)
const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(Message))
const utf8 = new TextEncoder()

/** The UTF-8 size of a file's text. */
export const byteLength = (content: string): number => utf8.encode(content).length

/** `yyyy-mm-dd` of an epoch ms, in UTC. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** 32-bit FNV-1a of a string, as 8 hex digits: names a batch by its message ids. */
const fnv1a = (s: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(16).padStart(8, "0")
}

const FILE_NAME = /^(\d{13})-([0-9a-f]{8})\.jsonl$/

/** The folder of one conversation's history. */
export const conversationDir = (conversation: ConversationId): string => `${MESSAGES_ROOT}/${conversation}`

/** The files one flush at `at` writes for `messages` (any conversations), in path order. */
export const layoutBatch = (messages: ReadonlyArray<Message>, at: number): ReadonlyArray<FileWrite> => {
  const groups = Arr.groupBy(messages, (m): string => m.conversation)
  return Object.keys(groups)
    .sort()
    .map((conversation) => {
      const ms = Arr.sort(groups[conversation]!, MessageOrder)
      const name = `${String(at).padStart(13, "0")}-${fnv1a(ms.map((m) => m.id).join("\n"))}.jsonl`
      return {
        path: `${MESSAGES_ROOT}/${conversation}/${dayOf(at)}/${name}`,
        content: ms.map((m) => JSON.stringify(encodeMessage(m))).join("\n") + "\n"
      }
    })
}

/** Where a message file sits: its conversation, day folder and commit time; none for any other path. */
export const parsePath = (
  path: string
): Option.Option<{ readonly conversation: string; readonly day: string; readonly committedAt: number }> => {
  const parts = path.split("/")
  if (parts.length !== 4 || parts[0] !== MESSAGES_ROOT) return Option.none()
  const match = FILE_NAME.exec(parts[3]!)
  if (match === null || !/^\d{4}-\d{2}-\d{2}$/.test(parts[2]!)) return Option.none()
  return Option.some({ conversation: parts[1]!, day: parts[2]!, committedAt: Number(match[1]) })
}

/** Whether a message file was committed at or after `since` (judged by its name). */
export const committedSince = (path: string, since: number): boolean =>
  Option.match(parsePath(path), { onNone: () => false, onSome: (p) => p.committedAt >= since })

/** Whether a day folder can hold files committed at or after `since`. */
export const dayMayHold = (day: string, since: number): boolean => day >= dayOf(since)

/** The messages in one file; lines that do not decode, or belong to another conversation, are skipped with a reason. */
export const parseFile = (
  path: string,
  content: string
): { readonly messages: ReadonlyArray<Message>; readonly skipped: ReadonlyArray<string> } => {
  const where = parsePath(path)
  const skipped: Array<string> = []
  const messages: Array<Message> = []
  if (Option.isNone(where)) return { messages, skipped: [`${path}: not a message file`] }
  content.split("\n").forEach((line, i) => {
    if (line.trim() === "") return
    Either.match(decodeLine(line), {
      onLeft: (e) => skipped.push(`${path}:${i + 1}: ${ParseResult.TreeFormatter.formatErrorSync(e).slice(0, 200)}`),
      onRight: (m) =>
        m.conversation === where.value.conversation
          ? messages.push(m)
          : skipped.push(`${path}:${i + 1}: message of ${m.conversation} in the folder of ${where.value.conversation}`)
    })
  })
  return { messages, skipped }
}

/** Whether a folder name is a day folder (`yyyy-mm-dd`). */
export const isDayFolder = (name: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(name)

/** Whether a file name is a history file (`<commit time>-<batch hash>.jsonl`). */
export const isHistoryFileName = (name: string): boolean => FILE_NAME.test(name)

/** A history file's key within its conversation, `yyyy-mm-dd/<file name>`: keys sort in commit order. */
export const historyKey = (day: string, name: string): string => `${day}/${name}`

/**
 * The keys one page reads: the newest `max` of `keys` strictly before `before` (all when
 * none), newest first, and whether older keys remain after them.
 */
export const pageKeys = (
  keys: ReadonlyArray<string>,
  before: Option.Option<string>,
  max: number
): { readonly taken: ReadonlyArray<string>; readonly more: boolean } => {
  const older = keys.filter((k) => Option.match(before, { onNone: () => true, onSome: (b) => k < b })).sort().reverse()
  return { taken: older.slice(0, max), more: older.length > max }
}
