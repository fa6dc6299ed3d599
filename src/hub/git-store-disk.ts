/**
 * The on-disk git store: a bare repository with loose zlib-deflated objects and one
 * file per ref, the layout `git clone` and `git log` read directly.
 */
import { existsSync } from "node:fs"
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { deflateSync, inflateSync } from "node:zlib"
import { frame, hashObject, unframe, type GitObject } from "./git-objects.js"
import type { GitStore } from "./git-store.js"

/** Objects are immutable, so a read cache can never go stale; bounded to keep memory flat. */
const CACHE_MAX_OBJECTS = 10_000

const writeAtomic = async (path: string, data: string | Uint8Array): Promise<void> => {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  await writeFile(tmp, data)
  await rename(tmp, path)
}

const initLayout = async (dir: string, defaultBranch: string): Promise<void> => {
  for (const sub of ["objects/info", "objects/pack", "refs/heads", "refs/tags", "info"]) {
    await mkdir(join(dir, sub), { recursive: true })
  }
  await writeFile(join(dir, "HEAD"), `ref: refs/heads/${defaultBranch}\n`)
  await writeFile(join(dir, "config"), "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n")
  await writeFile(join(dir, "description"), "SkyGit local hub repository\n")
}

/** A store backed by the bare repository at `dir` (created when missing). */
export const diskGitStore = async (dir: string, defaultBranch: string): Promise<GitStore> => {
  const existed = existsSync(join(dir, "HEAD"))
  if (!existed) await initLayout(dir, defaultBranch)
  const cache = new Map<string, GitObject>()
  const objectPath = (sha: string): string => join(dir, "objects", sha.slice(0, 2), sha.slice(2))
  const remember = (sha: string, obj: GitObject): void => {
    if (cache.size >= CACHE_MAX_OBJECTS) cache.clear()
    cache.set(sha, obj)
  }
  const listDir = async (base: string): Promise<Array<string>> => {
    const out: Array<string> = []
    for (const e of await readdir(base, { withFileTypes: true })) {
      const p = join(base, e.name)
      if (e.isDirectory()) out.push(...(await listDir(p)))
      else if (!e.name.endsWith(".tmp") && !e.name.endsWith(".lock")) out.push(p)
    }
    return out
  }
  return {
    existed,
    put: async (obj) => {
      const sha = hashObject(obj)
      const path = objectPath(sha)
      if (!cache.has(sha) && !existsSync(path)) {
        await mkdir(join(dir, "objects", sha.slice(0, 2)), { recursive: true })
        await writeAtomic(path, deflateSync(frame(obj)))
      }
      remember(sha, obj)
      return sha
    },
    get: async (sha) => {
      const hit = cache.get(sha)
      if (hit !== undefined) return hit
      if (!/^[0-9a-f]{40}$/.test(sha)) return undefined
      const bytes = await readFile(objectPath(sha)).catch(() => undefined)
      if (bytes === undefined) return undefined
      const obj = unframe(new Uint8Array(inflateSync(bytes)))
      if (obj !== undefined) remember(sha, obj)
      return obj
    },
    getRef: async (name) => {
      const s = await readFile(join(dir, name), "utf8").catch(() => undefined)
      return s === undefined ? undefined : s.trim()
    },
    setRef: async (name, sha) => {
      const path = join(dir, name)
      if (sha === undefined) {
        await rm(path, { force: true })
        return
      }
      await mkdir(join(path, ".."), { recursive: true })
      await writeAtomic(path, `${sha}\n`)
    },
    listRefs: async () =>
      (await listDir(join(dir, "refs"))).map((p) => relative(dir, p).split("\\").join("/")).sort()
  }
}
