/** Markdown-lite parsing: code, links, mentions, line breaks; hostile text stays text. */
import { describe, expect, it } from "vitest"
import { mentions, parseMessage, safeHref } from "../../src/web/markdown.js"

describe("markdown-lite", () => {
  it("parses code spans, links, mentions and line breaks", () => {
    expect(parseMessage("see `npm test` at https://example.com/a?b=1. cc @alice\nthanks [docs](https://d.example/x)")).toEqual([
      {
        _tag: "paragraph",
        inlines: [
          { _tag: "text", text: "see " },
          { _tag: "code", text: "npm test" },
          { _tag: "text", text: " at " },
          { _tag: "link", href: "https://example.com/a?b=1", text: "https://example.com/a?b=1" },
          { _tag: "text", text: ". cc " },
          { _tag: "mention", login: "alice" },
          { _tag: "break" },
          { _tag: "text", text: "thanks " },
          { _tag: "link", href: "https://d.example/x", text: "docs" }
        ]
      }
    ])
  })

  it("keeps fenced code verbatim, markup and mentions included", () => {
    expect(parseMessage("before\n```ts\nconst x = `<b>` // @bob\n```\nafter")).toEqual([
      { _tag: "paragraph", inlines: [{ _tag: "text", text: "before" }] },
      { _tag: "code", text: "const x = `<b>` // @bob" },
      { _tag: "paragraph", inlines: [{ _tag: "text", text: "after" }] }
    ])
    expect(mentions("```\n@bob\n```", "bob")).toBe(false)
  })

  it("never makes a link of an unsafe scheme, and leaves HTML as text", () => {
    for (const bad of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "//evil.example", "/relative"]) {
      expect(safeHref(bad), bad).toBeUndefined()
    }
    const blocks = parseMessage('[click](javascript:alert(1)) <script>alert("x")</script> <img src=x onerror=alert(1)>')
    const inlines = blocks.flatMap((b) => (b._tag === "paragraph" ? b.inlines : []))
    expect(inlines.some((i) => i._tag === "link")).toBe(false)
    expect(inlines.map((i) => (i._tag === "text" ? i.text : "")).join("")).toContain("<script>")
  })

  it("finds mentions of a login case-insensitively, not inside words or e-mail addresses", () => {
    expect(mentions("hey @Alice, look", "alice")).toBe(true)
    expect(mentions("mail alice@example.com", "example")).toBe(false)
    expect(mentions("@alice-bot", "alice")).toBe(false)
    expect(mentions("`@alice`", "alice")).toBe(false)
  })

  it("stays linear on long hostile input", () => {
    const text = "```x\n".repeat(1_600) + "`".repeat(3_000)
    expect(parseMessage(text).length).toBeGreaterThan(0)
  })
})
