/** The local web server answers only requests naming its own address (DNS-rebinding defence, issue 9). */
import { describe, expect, it } from "vitest"
import { hostAllowed } from "../../src/main/serve.js"

describe("hostAllowed", () => {
  it("accepts the server's own address and loopback aliases, refuses any other Host", () => {
    expect(hostAllowed("127.0.0.1:5173", "127.0.0.1", 5173)).toBe(true)
    expect(hostAllowed("localhost:5173", "127.0.0.1", 5173)).toBe(true)
    expect(hostAllowed("evil.example:5173", "127.0.0.1", 5173)).toBe(false)
    expect(hostAllowed("127.0.0.1:80", "127.0.0.1", 5173)).toBe(false)
    expect(hostAllowed(undefined, "127.0.0.1", 5173)).toBe(false)
    expect(hostAllowed("localhost:5173", "192.168.1.2", 5173)).toBe(false)
  })
})
