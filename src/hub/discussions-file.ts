/** Disk persistence of a repository's Discussions (git has no place for them): one JSON file beside the bare repo. */
import { existsSync } from "node:fs"
import { readFile, rename, writeFile } from "node:fs/promises"
import type { Category, Discussion } from "./state.js"

/** What is saved. */
export interface SavedDiscussions {
  readonly nextSerial: number
  readonly nextDiscussionNumber: number
  readonly discussionsEnabled: boolean
  readonly categories: ReadonlyArray<Category>
  readonly discussions: ReadonlyArray<Discussion>
}

/** The saved Discussions at `path`, if any and readable. */
export const loadDiscussions = async (path: string): Promise<SavedDiscussions | undefined> => {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(await readFile(path, "utf8")) as SavedDiscussions
  } catch {
    return undefined
  }
}

/** Saves atomically (write then rename), so a crash leaves the previous file intact. */
export const saveDiscussions = async (path: string, saved: SavedDiscussions): Promise<void> => {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(saved))
  await rename(tmp, path)
}
