import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

describe("npm run hub", () => {
  it("serves the hub and prints the URL and each user's token", async () => {
    const data = mkdtempSync(join(tmpdir(), "skygit-hub-cli-"))
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/hub.ts", "--port", "0", "--data", data, "--users", "ann,ben", "--repo", "ann/r"], {
      cwd: process.cwd(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = ""
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString()
          if (/token ben \S+/.test(text)) resolve(text)
        })
        child.once("exit", (code) => reject(new Error(`hub exited with ${code}: ${text}`)))
      })
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!
      const token = /token ann (\S+)/.exec(out)![1]!
      const me = await fetch(`${url}/user`, { headers: { authorization: `token ${token}` } })
      expect(((await me.json()) as { login: string }).login).toBe("ann")
    } finally {
      process.kill(-child.pid!, "SIGTERM")
      rmSync(data, { recursive: true, force: true })
    }
  })

  it("switches GitHub behaviours on with --fault, and refuses an unknown one with a clear message", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/hub.ts", "--port", "0", "--users", "ann,ben", "--repo", "ann/r", "--fault", "read-only:ben", "--fault", "archived"], {
      cwd: process.cwd(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = ""
        child.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString()
          if (/token ben \S+/.test(text)) resolve(text)
        })
        child.once("exit", (code) => reject(new Error(`hub exited with ${code}: ${text}`)))
      })
      expect(out).toContain("faults: read-only:ben archived")
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!
      const token = /token ben (\S+)/.exec(out)![1]!
      const r = (await (await fetch(`${url}/repos/ann/r`, { headers: { authorization: `token ${token}` } })).json()) as { archived: boolean; permissions: { push: boolean } }
      expect([r.archived, r.permissions.push]).toEqual([true, false])
    } finally {
      process.kill(-child.pid!, "SIGTERM")
    }
    const bad = spawn(process.execPath, ["--import", "tsx", "scripts/hub.ts", "--port", "0", "--fault", "flood"], { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] })
    let err = ""
    bad.stderr.on("data", (c: Buffer) => (err += c.toString()))
    const code = await new Promise<number | null>((resolve) => bad.once("exit", resolve))
    expect(code).toBe(2)
    expect(err).toContain('unknown --fault "flood"')
  })
})
