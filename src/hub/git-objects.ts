/**
 * Git's object model, byte for byte: blobs, trees and commits hashed with SHA-1 over
 * `<type> <length>\0<content>`, so every sha the hub hands out is the sha real git computes.
 */
import { createHash } from "node:crypto"

/** The three object types the hub stores (tags are not part of SkyGit's subset). */
export type ObjectType = "blob" | "tree" | "commit"

/** One stored object: its type and its raw content (without the git header). */
export interface GitObject {
  readonly type: ObjectType
  readonly data: Uint8Array
}

/** A tree entry as git stores it; `mode` is git's octal text ("100644", "40000"). */
export interface TreeEntry {
  readonly mode: string
  readonly name: string
  readonly sha: string
}

/** A person line of a commit: who and when (epoch seconds, UTC offset as "+0000"). */
export interface Signature {
  readonly name: string
  readonly email: string
  readonly seconds: number
  readonly offset: string
}

/** A parsed commit object. */
export interface Commit {
  readonly tree: string
  readonly parents: ReadonlyArray<string>
  readonly author: Signature
  readonly committer: Signature
  readonly message: string
}

/** Git's mode for a directory entry inside a tree object. */
export const TREE_MODE = "40000"
/** Git's mode for a regular file. */
export const FILE_MODE = "100644"

const utf8 = new TextEncoder()
const text = new TextDecoder()

/** The bytes of a UTF-8 string. */
export const encodeUtf8 = (s: string): Uint8Array => utf8.encode(s)
/** The string of UTF-8 bytes. */
export const decodeUtf8 = (b: Uint8Array): string => text.decode(b)

/** The full loose-object bytes `<type> <len>\0<data>` that git hashes and stores. */
export const frame = (obj: GitObject): Uint8Array => {
  const header = utf8.encode(`${obj.type} ${obj.data.length}\0`)
  const out = new Uint8Array(header.length + obj.data.length)
  out.set(header, 0)
  out.set(obj.data, header.length)
  return out
}

/** The object parsed back from its framed bytes; undefined when the header is not git's. */
export const unframe = (bytes: Uint8Array): GitObject | undefined => {
  const nul = bytes.indexOf(0)
  if (nul < 0) return undefined
  const [type, len] = text.decode(bytes.subarray(0, nul)).split(" ")
  if (type !== "blob" && type !== "tree" && type !== "commit") return undefined
  const data = bytes.subarray(nul + 1)
  return Number(len) === data.length ? { type, data } : undefined
}

/** The sha git gives an object. */
export const hashObject = (obj: GitObject): string => createHash("sha1").update(frame(obj)).digest("hex")

/** Whether a string looks like a full object sha. */
export const isSha = (s: unknown): s is string => typeof s === "string" && /^[0-9a-f]{40}$/.test(s)

/** Whether a tree entry mode names a subtree. */
export const isTreeMode = (mode: string): boolean => mode === TREE_MODE || mode === "040000"

// Git orders tree entries by name bytes, comparing a subtree's name as if it ended in "/".
const sortKey = (e: TreeEntry): string => (isTreeMode(e.mode) ? `${e.name}/` : e.name)
const compareBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** A tree object from entries, in git's canonical order. */
export const encodeTree = (entries: ReadonlyArray<TreeEntry>): GitObject => {
  const sorted = [...entries].sort((a, b) => compareBytes(sortKey(a), sortKey(b)))
  const parts: Array<Uint8Array> = []
  for (const e of sorted) {
    parts.push(utf8.encode(`${isTreeMode(e.mode) ? TREE_MODE : e.mode} ${e.name}\0`))
    parts.push(Buffer.from(e.sha, "hex"))
  }
  return { type: "tree", data: Buffer.concat(parts) }
}

/** The entries of a tree object's content. */
export const decodeTree = (data: Uint8Array): ReadonlyArray<TreeEntry> => {
  const entries: Array<TreeEntry> = []
  let i = 0
  while (i < data.length) {
    const space = data.indexOf(0x20, i)
    const nul = data.indexOf(0, space)
    if (space < 0 || nul < 0 || nul + 21 > data.length) break
    const mode = text.decode(data.subarray(i, space))
    const name = text.decode(data.subarray(space + 1, nul))
    const sha = Buffer.from(data.subarray(nul + 1, nul + 21)).toString("hex")
    entries.push({ mode, name, sha })
    i = nul + 21
  }
  return entries
}

const person = (s: Signature): string => `${s.name} <${s.email}> ${s.seconds} ${s.offset}`

/** A commit object. */
export const encodeCommit = (c: Commit): GitObject => {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`), `author ${person(c.author)}`, `committer ${person(c.committer)}`]
  return { type: "commit", data: utf8.encode(`${lines.join("\n")}\n\n${c.message}`) }
}

const PERSON_LINE = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/

const parsePerson = (s: string): Signature => {
  const m = PERSON_LINE.exec(s)
  return m === null
    ? { name: s, email: "", seconds: 0, offset: "+0000" }
    : { name: m[1]!, email: m[2]!, seconds: Number(m[3]), offset: m[4]! }
}

/** A commit parsed from its content. */
export const decodeCommit = (data: Uint8Array): Commit => {
  const s = text.decode(data)
  const split = s.indexOf("\n\n")
  const head = split < 0 ? s : s.slice(0, split)
  const message = split < 0 ? "" : s.slice(split + 2)
  let tree = ""
  const parents: Array<string> = []
  let author: Signature = { name: "", email: "", seconds: 0, offset: "+0000" }
  let committer = author
  for (const line of head.split("\n")) {
    const sp = line.indexOf(" ")
    const key = line.slice(0, sp)
    const value = line.slice(sp + 1)
    if (key === "tree") tree = value
    else if (key === "parent") parents.push(value)
    else if (key === "author") author = parsePerson(value)
    else if (key === "committer") committer = parsePerson(value)
  }
  return { tree, parents, author, committer, message }
}
