/**
 * What a user without push access sees, in real Chromium on the local hub (`startApp`, as
 * `npm start` runs it) with the hub's `read-only:alice` fault (issue 9):
 * - in the Discussion form she joins, and the room says plainly that history is not being
 *   saved while nobody online can push (`PeerView.historyNotice`), until a pusher connects;
 * - in the file form, where presence needs a commit, the picker tells her she joins through the
 *   lobby (the presence Discussion); she connects to a pusher, who saves her message.
 */
import { Effect, Option } from "effect"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeGitHubClient } from "../../src/adapters/github/client.js"
import { makeGitHubRepoSettings } from "../../src/adapters/github/repo-settings.js"
import type { PresenceForm } from "../../src/domain/repo-settings.js"
import type { Username } from "../../src/domain/identity.js"
import { startDemoApp, type DemoApp } from "./demo-app.js"
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./chromium.js"

const WAIT_MS = 30_000
const REPO = "demo/chat"

let app: DemoApp
let browser: Browser

beforeAll(async () => {
  app = await startDemoApp("permissions-ui", { users: ["alice", "bob"], repository: REPO, hubFaults: ["read-only:alice"] })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] })
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

/** bob (a pusher) records `form` for the repository, as the first person to enable SkyGit would. */
const record = async (form: PresenceForm): Promise<void> => {
  const [owner, repo] = REPO.split("/") as [string, string]
  await Effect.runPromise(
    Effect.gen(function* () {
      const client = yield* makeGitHubClient({ baseUrl: app.hubUrl!, token: app.tokens["bob"]!, userAgent: "skygit-test", owner, repo })
      const settings = yield* makeGitHubRepoSettings(client)
      const seen = yield* settings.read
      yield* settings.write({ v: 1, presence: form, chosenBy: "bob" as Username, chosenAt: Date.now() }, Option.map(seen, (s) => s.version))
    })
  )
}

/** A fresh context signed in as `user`, in the room of REPO. */
const join_ = async (user: string, beforeJoin?: (page: Page) => Promise<void>): Promise<Page> => {
  const page = await (await browser.newContext()).newPage()
  page.on("pageerror", (e) => console.error(`[${user}] page error`, e))
  await page.goto(app.webUrl)
  await page.getByTestId(`demo-${user}`).click()
  await page.getByTestId("repos").getByText(REPO).waitFor({ timeout: WAIT_MS })
  await beforeJoin?.(page)
  await page.getByTestId("join").click()
  await page.getByTestId("room").waitFor({ timeout: WAIT_MS })
  return page
}

describe("a user without push access (Chromium, hub fault read-only:alice)", () => {
  it("before anyone enabled SkyGit, the picker tells her that someone who can push must open it first", async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(app.webUrl)
    await page.getByTestId("demo-alice").click()
    await page.getByTestId("repos").getByText(REPO).waitFor({ timeout: WAIT_MS })
    await page.getByTestId("read-only-unrecorded").waitFor({ timeout: WAIT_MS })
    await expect(page.getByTestId("read-only-file").count()).resolves.toBe(0)
    await page.context().close()
  }, 60_000)

  it("in the Discussion form, the room says that history is not being saved while nobody online can push", async () => {
    await record("discussion")
    const alice = await join_("alice", async (page) => {
      await page.getByTestId("recorded-form").waitFor({ timeout: WAIT_MS })
      await expect(page.getByTestId("read-only-file").count()).resolves.toBe(0)
    })
    const notice = alice.getByTestId("history-notice")
    await notice.waitFor({ timeout: WAIT_MS })
    await expect(notice.textContent()).resolves.toMatch(/history is not being saved/i)
    // A pusher joins: once they are connected, someone can save history, and the banner goes.
    const bob = await join_("bob")
    await alice.locator('[data-testid="person-bob"][data-state="open"]').waitFor({ timeout: WAIT_MS })
    await notice.waitFor({ state: "detached", timeout: WAIT_MS })
    await expect(bob.getByTestId("history-notice").count()).resolves.toBe(0)
    await Promise.all([alice.context().close(), bob.context().close()])
  }, 120_000)

  it("in the file form, the picker says she joins through the lobby; she connects to a pusher, who saves her message", async () => {
    await record("file")
    const alice = await join_("alice", async (page) => {
      // The picker says it before she joins.
      const banner = page.getByTestId("read-only-file")
      await banner.waitFor({ timeout: WAIT_MS })
      await expect(banner.getAttribute("data-lobby")).resolves.toBe("usable")
      await expect(banner.textContent()).resolves.toMatch(/join through the lobby/)
    })
    const bob = await join_("bob")
    // alice knocks in the Discussion; bob (who can push) answers through the presence file.
    await alice.locator('[data-testid="person-bob"][data-state="open"]').waitFor({ timeout: 90_000 })
    await expect(alice.getByTestId("presence-problem").count()).resolves.toBe(0)
    await alice.getByTestId("composer").fill("from the lobby")
    await alice.getByTestId("composer").press("Enter")
    await bob.getByTestId("messages").getByText("from the lobby").waitFor({ timeout: WAIT_MS })
    // bob leads (alice cannot push): "Save now" commits it, and alice sees it saved.
    await bob.getByTestId("save-now").click()
    await alice.locator('[data-testid="message"]', { hasText: "from the lobby" }).locator('[data-testid="message-state"][data-state="saved"]').waitFor({ timeout: 60_000 })
    await Promise.all([alice.context().close(), bob.context().close()])
  }, 180_000)
})
