/**
 * The page's lifecycle, for the session: when the page is hidden or closed the leader
 * writes what it holds uncommitted (`peer.commitOnExit`, started synchronously: after
 * `pagehide` returns nothing asynchronous is sure to run), then a closing page leaves
 * (goodbye, as far as the page lets it). Before closing, a page holding messages that no
 * other peer holds and that the exit write cannot carry asks first, saying how many.
 */
import { Effect } from "effect"
import type { Session } from "./services.js"

/** What the page says when it asks before closing (browsers may show their own text). */
export const waitingText = (n: number): string =>
  `${n} message${n === 1 ? "" : "s"} would wait on this device until SkyGit opens here again: nobody else has ${n === 1 ? "it" : "them"} yet.`

/** Starts the exit writes now; never throws (a handler of a closing page has no one to tell). */
const commitNow = (session: Session, reason: "closing" | "hidden"): void => {
  try {
    Effect.runSync(session.peer.commitOnExit(reason))
  } catch (e) {
    console.warn("SkyGit: could not write on the way out", e)
  }
}

/** Watches the page for the current session (`current()`); returns the function that stops watching. */
export const watchPageExit = (win: Window, current: () => Session | undefined): (() => void) => {
  const onVisibility = () => {
    const s = current()
    if (s !== undefined && win.document.visibilityState === "hidden") commitNow(s, "hidden")
  }
  const onPageHide = () => {
    const s = current()
    if (s === undefined) return
    commitNow(s, "closing")
    void s.close()
  }
  const onBeforeUnload = (event: BeforeUnloadEvent) => {
    const s = current()
    if (s === undefined) return
    let waiting = 0
    try {
      waiting = Effect.runSync(s.peer.waitingOnExit(win.navigator.onLine))
    } catch {
      return
    }
    if (waiting === 0) return
    event.preventDefault()
    // Older browsers show (or at least need) a return value to ask.
    event.returnValue = waitingText(waiting)
    return waitingText(waiting)
  }
  win.document.addEventListener("visibilitychange", onVisibility)
  win.addEventListener("pagehide", onPageHide)
  win.addEventListener("beforeunload", onBeforeUnload)
  return () => {
    win.document.removeEventListener("visibilitychange", onVisibility)
    win.removeEventListener("pagehide", onPageHide)
    win.removeEventListener("beforeunload", onBeforeUnload)
  }
}
