/**
 * Who is typing where: a notice holds for TYPING_SHOWN_MS after it arrived, and a
 * typist sends at most one per TYPING_RESEND_MS, so an indicator stays lit while
 * someone keeps typing and goes out soon after they stop. Pure: time is a parameter.
 */
import { normalizeLogin } from "./identity.js"

/** How long one notice shows its sender as typing. */
export const TYPING_SHOWN_MS = 6_000
/** Least time between two notices of one typist in one conversation. */
export const TYPING_RESEND_MS = 3_000
/** Typists tracked at most (a hostile mesh cannot grow the map without bound). */
export const MAX_TYPISTS = 256

/** conversation -> login -> until when it shows. */
export type TypingState = ReadonlyMap<string, ReadonlyMap<string, { readonly login: string; readonly until: number }>>

/** Records that `login` types in `conversation` at `at`; expired entries are dropped on the way. */
export const noteTyping = (state: TypingState, conversation: string, login: string, at: number): TypingState => {
  const next = new Map<string, Map<string, { readonly login: string; readonly until: number }>>()
  let count = 0
  for (const [c, users] of state) {
    const live = new Map([...users].filter(([, u]) => u.until > at))
    count += live.size
    if (live.size > 0) next.set(c, live)
  }
  if (count >= MAX_TYPISTS) return next
  const users = next.get(conversation) ?? new Map()
  users.set(normalizeLogin(login), { login, until: at + TYPING_SHOWN_MS })
  next.set(conversation, users)
  return next
}

/** Who types in `conversation` at `at`, sorted, leaving out `self`. */
export const typists = (state: TypingState, conversation: string, self: string, at: number): ReadonlyArray<string> =>
  [...(state.get(conversation)?.values() ?? [])]
    .filter((u) => u.until > at && normalizeLogin(u.login) !== normalizeLogin(self))
    .map((u) => u.login)
    .sort()

/** Whether a typist who last sent a notice at `lastSentAt` should send another at `at`. */
export const typingDue = (lastSentAt: number | undefined, at: number): boolean => lastSentAt === undefined || at - lastSentAt >= TYPING_RESEND_MS

/** How typists read in the UI: "alice is typing…", "alice and bob are typing…", "3 people are typing…". */
export const typingText = (names: ReadonlyArray<string>): string =>
  names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : `${names.length} people are typing…`
