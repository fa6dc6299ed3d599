/**
 * The web client's connection settings in Chromium (issue 10 §1): STUN and TURN servers and
 * relay-only mode set in the page are what its RTCPeerConnections get, and with a real coturn on
 * loopback two relay-only pages connect through it (every local candidate and the selected pair
 * are relayed); the settings are kept on the device only when asked, and forgotten on request.
 * The page's RTCPeerConnection is wrapped by an init script that records each instance and the
 * configuration it was given; nothing in the client knows about it.
 */
import { Effect, Exit, Scope } from "effect"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { ICE_SETTINGS_KEY } from "../../src/web/ice-settings.js"
import { startTurn, type Turn } from "../webrtc/turn.js"
import { axeViolations, launchChromium, type TestBrowser } from "./chromium.js"

const WAIT_MS = 30_000


let app: DemoApp
let browser: TestBrowser
let turnScope: Scope.CloseableScope
let turn: Turn

/** Records every RTCPeerConnection the page makes, with the configuration it was given. */
const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection
  const made = []
  class Recorded extends Native {
    constructor(config) {
      super(config)
      made.push({ pc: this, config: { iceTransportPolicy: config?.iceTransportPolicy, iceServers: config?.iceServers ?? [] } })
    }
  }
  window.RTCPeerConnection = Recorded
  window.__skygitPeerConnections = made
})()`

beforeAll(async () => {
  turnScope = Effect.runSync(Scope.make())
  turn = await Effect.runPromise(Scope.extend(startTurn, turnScope))
  app = await startDemoApp("ice", { users: ["alice", "bob", "carol"], repository: "demo/chat" })
  browser = await launchChromium()
  await browser.context.addInitScript(RECORD_PEER_CONNECTIONS)
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  if (turnScope !== undefined) await Effect.runPromise(Scope.close(turnScope, Exit.void))
})

const turnUrl = (): string => ([] as Array<string>).concat(turn.iceServer.urls)[0]!
const stunUrl = (): string => turnUrl().replace(/^turn:/, "stun:").replace(/\?.*$/, "")

/** Opens the client and signs in as `user`; the picker (with the settings) is showing. */
const signIn = async (user: string): Promise<Page> => {
  const page = await browser.context.newPage()
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText("demo/chat").waitFor({ timeout: WAIT_MS })
  return page
}

/** Fills the connection settings with the loopback coturn, relay only, and saves them. */
const setRelayOnly = async (page: Page, remember: boolean): Promise<void> => {
  await page.getByTestId("ice-settings").locator("summary").click()
  await page.getByTestId("ice-stun").fill(stunUrl())
  await page.getByTestId("ice-turn-url").fill(turnUrl())
  await page.getByTestId("ice-turn-user").fill(String(turn.iceServer.username))
  await page.getByTestId("ice-turn-credential").fill(String(turn.iceServer.credential))
  await page.getByTestId("ice-relay-only").check()
  if (remember) await page.getByTestId("ice-remember").check()
  else await page.getByTestId("ice-remember").uncheck()
  await page.getByTestId("ice-save").click()
  await page.getByTestId("ice-notice").waitFor({ timeout: WAIT_MS })
}

const stored = (page: Page): Promise<string | null> => page.evaluate((key) => localStorage.getItem(key), ICE_SETTINGS_KEY)

const join_ = async (page: Page): Promise<void> => {
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
}

interface Applied {
  readonly policy: string | undefined
  readonly urls: ReadonlyArray<string>
  readonly local: string | undefined
  readonly remote: string | undefined
  readonly localTypes: ReadonlyArray<string>
}

/** For each connected RTCPeerConnection of the page: its configuration and, from getStats, the selected pair's candidate types. */
const applied = (page: Page): Promise<ReadonlyArray<Applied>> =>
  page.evaluate(async () => {
    type Made = { pc: RTCPeerConnection; config: { iceTransportPolicy?: string; iceServers: Array<RTCIceServer> } }
    const made = (window as unknown as { __skygitPeerConnections: Array<Made> }).__skygitPeerConnections
    const out: Array<Applied> = []
    for (const { pc, config } of made) {
      if (pc.connectionState !== "connected") continue
      const byId = new Map<string, Record<string, unknown>>()
      ;(await pc.getStats()).forEach((s: Record<string, unknown>) => byId.set(String(s.id), s))
      const all = Array.from(byId.values())
      const transport = all.find((s) => s.type === "transport" && typeof s.selectedCandidatePairId === "string")
      const pair = transport === undefined ? undefined : byId.get(String(transport.selectedCandidatePairId))
      out.push({
        policy: config.iceTransportPolicy,
        urls: config.iceServers.flatMap((s) => ([] as Array<string>).concat(s.urls)),
        local: pair === undefined ? undefined : String(byId.get(String(pair.localCandidateId))?.candidateType),
        remote: pair === undefined ? undefined : String(byId.get(String(pair.remoteCandidateId))?.candidateType),
        localTypes: all.filter((s) => s.type === "local-candidate").map((s) => String(s.candidateType))
      })
    }
    return out
  })

describe("web client connection settings", () => {
  it("relay-only with a TURN server is applied (every candidate relayed), remembered only when asked, and forgotten on request", async () => {
    // Alice sets relay-only for this tab only: nothing is kept on the device.
    const alice = await signIn("alice")
    await setRelayOnly(alice, false)
    expect(await stored(alice)).toBeNull()
    await join_(alice)

    // Bob (same browser profile) starts from the defaults, then asks to remember his settings.
    const bob = await signIn("bob")
    expect(await bob.getByTestId("ice-turn-url").inputValue()).toBe("")
    await setRelayOnly(bob, true)
    expect(JSON.parse((await stored(bob)) ?? "{}")).toMatchObject({ relayOnly: true, turn: { urls: turnUrl() } })
    await join_(bob)

    await Promise.all([
      alice.locator('[data-testid="person-bob"][data-state="open"]').waitFor({ timeout: WAIT_MS }),
      bob.locator('[data-testid="person-alice"][data-state="open"]').waitFor({ timeout: WAIT_MS })
    ])
    for (const page of [alice, bob]) {
      const connections = await applied(page)
      expect(connections.length).toBeGreaterThan(0)
      for (const c of connections) {
        expect(c.policy).toBe("relay")
        expect(c.urls).toEqual(expect.arrayContaining([stunUrl(), turnUrl()]))
        // Relay-only: this page never offered its own address, and the path goes through coturn.
        expect(c.localTypes.length).toBeGreaterThan(0)
        expect(new Set(c.localTypes)).toEqual(new Set(["relay"]))
        expect(c.local).toBe("relay")
        expect(c.remote).toBe("relay")
      }
    }
    await alice.getByTestId("composer").fill("through the relay")
    await alice.getByTestId("send").click()
    await bob.getByTestId("messages").getByText("through the relay").waitFor({ timeout: WAIT_MS })

    // Carol, on the same device, finds bob's remembered settings, and forgets them.
    const carol = await signIn("carol")
    expect(await carol.getByTestId("ice-turn-url").inputValue()).toBe(turnUrl())
    expect(await carol.getByTestId("ice-relay-only").isChecked()).toBe(true)
    expect(await carol.getByTestId("ice-remember").isChecked()).toBe(true)
    await carol.getByTestId("ice-settings").locator("summary").click()
    // Every field and button of the open panel is labelled.
    expect(await axeViolations(carol)).toEqual([])
    await carol.getByTestId("ice-forget").click()
    await carol.getByTestId("ice-notice").getByText("Forgotten").waitFor({ timeout: WAIT_MS })
    expect(await stored(carol)).toBeNull()
    expect(await carol.getByTestId("ice-turn-url").inputValue()).toBe("")
    expect(await carol.getByTestId("ice-turn-credential").inputValue()).toBe("")
    await carol.close()
    const again = await signIn("carol")
    expect(await again.getByTestId("ice-turn-url").inputValue()).toBe("")
    expect(await again.getByTestId("ice-relay-only").isChecked()).toBe(false)
  }, 180_000)
})
