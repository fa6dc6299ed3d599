/**
 * What a closing leader writes on its way out. A commit through the git database API
 * takes several dependent requests and does not survive a closing page; a contents API
 * PUT of one new file does, sent with `keepalive`, but browsers cap the bodies of such
 * requests in flight (64 KiB in Chromium). The plan packs the pending messages into one
 * file per conversation, laid out exactly as a flush lays them out (`commit-layout.ts`),
 * within that budget; what does not fit stays in the device store.
 */
import { Array as Arr, Schema } from "effect"
import { byteLength, layoutBatch, type FileWrite } from "./commit-layout.js"
import { Message, MessageOrder } from "./message.js"

/** Chromium's cap on the bodies of a page's keepalive requests in flight at once. */
export const KEEPALIVE_BUDGET_BYTES = 64 * 1024
/** Kept free of that cap for the page's other keepalive requests (none today) and for rounding. */
export const EXIT_BUDGET_MARGIN_BYTES = 4 * 1024
/** The commit message of an exit write: constant, so its size is known before writing. */
export const EXIT_COMMIT_MESSAGE = "SkyGit: messages saved as the leader left [skip ci]"
/**
 * Files (conversations) written on the way out at most. Each is one PUT on the same
 * branch at once; GitHub may refuse concurrent ones (409), and each counts against the
 * 80 writes a minute.
 */
export const MAX_EXIT_FILES = 8

/** The budget a plan must fit (the port's `ExitBudget`, restated so the domain needs no port). */
export interface ExitBudgetModel {
  readonly totalBytes: number
  readonly requestBytes: (path: string, contentBytes: number) => number
}

/** What to write on the way out, and what stays behind. */
export interface ExitPlan {
  /** The files to write, in the commit layout. */
  readonly files: ReadonlyArray<FileWrite>
  /** The messages each file carries, by path. */
  readonly carriedBy: ReadonlyMap<string, ReadonlyArray<Message>>
  /** Messages that did not fit: they stay pending in the device store. */
  readonly left: ReadonlyArray<Message>
  /** Request body bytes the files take. */
  readonly bytes: number
}

const encode = Schema.encodeSync(Message)
/** The bytes a message takes in a file: its JSON line and the newline. */
const lineBytes = (m: Message): number => byteLength(JSON.stringify(encode(m))) + 1

/**
 * Packs `messages` written at `at` into files within `budget`. Messages for which
 * `first` holds go first (those no other peer holds), then the rest; each group oldest
 * first. A message that does not fit is left, and smaller later ones may still go.
 */
export const planExitWrites = (
  messages: ReadonlyArray<Message>,
  at: number,
  budget: ExitBudgetModel,
  first: (m: Message) => boolean = () => false
): ExitPlan => {
  const ordered = [...Arr.sort(messages.filter(first), MessageOrder), ...Arr.sort(messages.filter((m) => !first(m)), MessageOrder)]
  // The path's length does not depend on the batch hash, so a placeholder file names the cost.
  const pathOf = (m: Message): string => layoutBatch([m], at)[0]!.path
  const groups = new Map<string, { path: string; bytes: number; messages: Array<Message> }>()
  const left: Array<Message> = []
  let total = 0
  for (const m of ordered) {
    const size = lineBytes(m)
    const group = groups.get(m.conversation)
    if (group === undefined) {
      const path = pathOf(m)
      const cost = budget.requestBytes(path, size)
      if (groups.size >= MAX_EXIT_FILES || total + cost > budget.totalBytes) {
        left.push(m)
        continue
      }
      groups.set(m.conversation, { path, bytes: size, messages: [m] })
      total += cost
      continue
    }
    const delta = budget.requestBytes(group.path, group.bytes + size) - budget.requestBytes(group.path, group.bytes)
    if (total + delta > budget.totalBytes) {
      left.push(m)
      continue
    }
    group.bytes += size
    group.messages.push(m)
    total += delta
  }
  const carriedBy = new Map<string, ReadonlyArray<Message>>()
  const files: Array<FileWrite> = []
  for (const group of groups.values()) {
    const file = layoutBatch(group.messages, at)[0]!
    files.push(file)
    carriedBy.set(file.path, group.messages)
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { files, carriedBy, left: Arr.sort(left, MessageOrder), bytes: total }
}

/** Base64 length of `n` bytes. */
export const base64Length = (n: number): number => 4 * Math.ceil(n / 3)

/** The JSON body of the contents API PUT that creates a file on `branch` (content in base64). */
export const contentsPutBody = (base64Content: string, branch: string): string =>
  JSON.stringify({ message: EXIT_COMMIT_MESSAGE, content: base64Content, branch })

/** The exit budget of writes by contents API PUT on `branch`, sent with keepalive. */
export const keepaliveExitBudget = (branch: string): ExitBudgetModel => {
  const overhead = byteLength(contentsPutBody("", branch))
  return {
    totalBytes: KEEPALIVE_BUDGET_BYTES - EXIT_BUDGET_MARGIN_BYTES,
    requestBytes: (_path, contentBytes) => overhead + base64Length(contentBytes)
  }
}
