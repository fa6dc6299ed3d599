/** The in-memory git store: a Map of objects and a Map of refs. */
import { hashObject, type GitObject } from "./git-objects.js"
import type { GitStore } from "./git-store.js"

/** A fresh, empty in-memory store. */
export const memoryGitStore = (): GitStore => {
  const objects = new Map<string, GitObject>()
  const refs = new Map<string, string>()
  return {
    existed: false,
    put: async (obj) => {
      const sha = hashObject(obj)
      if (!objects.has(sha)) objects.set(sha, { type: obj.type, data: new Uint8Array(obj.data) })
      return sha
    },
    get: async (sha) => objects.get(sha),
    getRef: async (name) => refs.get(name),
    setRef: async (name, sha) => {
      if (sha === undefined) refs.delete(name)
      else refs.set(name, sha)
    },
    listRefs: async () => [...refs.keys()].sort()
  }
}
