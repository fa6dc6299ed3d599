/**
 * The local hub and the built client, as `npm start` runs them, in a temporary folder of
 * their own: what every end-to-end file on the local hub starts before its tests and
 * removes after them.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startApp, type RunningApp } from "../../src/main/serve.js"

/** A running demo and how to remove it (the app, then its folder). */
export interface DemoApp extends RunningApp {
  /** The temporary folder holding the hub's data and the built client. */
  readonly work: string
}

/** Starts the hub (with `users`, `repository` and any `hubFaults`) and the client on free loopback ports. */
export const startDemoApp = async (
  name: string,
  options: { readonly users: ReadonlyArray<string>; readonly repository: string; readonly hubFaults?: ReadonlyArray<string> }
): Promise<DemoApp> => {
  const work = await mkdtemp(join(tmpdir(), `skygit-${name}-`))
  try {
    const app = await startApp({ hubDataDir: join(work, "hub"), host: "127.0.0.1", hubPort: 0, webPort: 0, outDir: join(work, "web"), ...options })
    return {
      ...app,
      work,
      close: async () => {
        await app.close()
        await rm(work, { recursive: true, force: true })
      }
    }
  } catch (e) {
    await rm(work, { recursive: true, force: true })
    throw e
  }
}
