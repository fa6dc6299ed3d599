/**
 * Markdown-lite for chat text: fenced code blocks, `code spans`, links (bare http(s) URLs
 * and `[text](url)`), `@login` mentions and line breaks. It parses into plain data that
 * `MessageText` turns into DOM nodes; nothing is ever parsed as HTML, so a message cannot
 * inject markup or script. Only http, https and mailto links are made.
 */

/** Inline pieces of a paragraph. */
export type Inline =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "code"; readonly text: string }
  | { readonly _tag: "link"; readonly href: string; readonly text: string }
  | { readonly _tag: "mention"; readonly login: string }
  | { readonly _tag: "break" }

/** Blocks of a message. */
export type Block = { readonly _tag: "code"; readonly text: string } | { readonly _tag: "paragraph"; readonly inlines: ReadonlyArray<Inline> }

/** Link schemes that may become links; anything else (javascript:, data:, …) stays text. */
const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"])
/** Longest URL made into a link (longer ones stay text). */
export const MAX_LINK_LENGTH = 2_048

/** The URL if it is absolute and of a safe scheme, else undefined. */
export const safeHref = (raw: string): string | undefined => {
  if (raw.length > MAX_LINK_LENGTH) return undefined
  try {
    const url = new URL(raw)
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : undefined
  } catch {
    return undefined
  }
}

// One pass over a line: a code span, a [text](url) link, a bare URL or a mention, whichever comes first.
const INLINE = /`([^`\n]+)`|\[([^\]\n]{1,500})\]\(([^()\s]{1,2048})\)|(https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]])|(^|[^A-Za-z0-9_/`])@([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})(?![A-Za-z0-9-])/g

const inlinesOf = (line: string): Array<Inline> => {
  const out: Array<Inline> = []
  const text = (t: string) => {
    if (t === "") return
    const last = out.at(-1)
    if (last?._tag === "text") out[out.length - 1] = { _tag: "text", text: last.text + t }
    else out.push({ _tag: "text", text: t })
  }
  let at = 0
  for (const m of line.matchAll(INLINE)) {
    const start = m.index
    text(line.slice(at, start))
    at = start + m[0].length
    if (m[1] !== undefined) out.push({ _tag: "code", text: m[1] })
    else if (m[2] !== undefined) {
      const href = safeHref(m[3]!)
      if (href === undefined) text(m[0])
      else out.push({ _tag: "link", href, text: m[2] })
    } else if (m[4] !== undefined) {
      const href = safeHref(m[4])
      if (href === undefined) text(m[0])
      else out.push({ _tag: "link", href, text: m[4] })
    } else {
      text(m[5]!)
      out.push({ _tag: "mention", login: m[6]! })
    }
  }
  text(line.slice(at))
  return out
}

/** Parses message text into blocks: fenced code (``` lines) verbatim, other lines as paragraphs with line breaks. */
export const parseMessage = (source: string): ReadonlyArray<Block> => {
  const blocks: Array<Block> = []
  const lines = source.replace(/\r\n?/g, "\n").split("\n")
  let paragraph: Array<string> = []
  const endParagraph = () => {
    if (paragraph.length === 0) return
    const inlines: Array<Inline> = []
    paragraph.forEach((line, i) => {
      if (i > 0) inlines.push({ _tag: "break" })
      inlines.push(...inlinesOf(line))
    })
    blocks.push({ _tag: "paragraph", inlines })
    paragraph = []
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (/^\s*```/.test(line)) {
      const close = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l))
      if (close !== -1) {
        endParagraph()
        blocks.push({ _tag: "code", text: lines.slice(i + 1, close).join("\n") })
        i = close
        continue
      }
    }
    paragraph.push(line)
  }
  endParagraph()
  return blocks
}

/** Whether `text` mentions `login` (GitHub logins compare case-insensitively; code is not searched). */
export const mentions = (text: string, login: string): boolean =>
  parseMessage(text).some((b) => b._tag === "paragraph" && b.inlines.some((i) => i._tag === "mention" && i.login.toLowerCase() === login.toLowerCase()))
