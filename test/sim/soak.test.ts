/**
 * The soak's guard in `npm test` (issue 8): 20 seeded random fault schedules in each
 * presence form, run by the soak runner itself in its child processes. The 1,000-schedule
 * figures are a benchmark (docs/benchmarks.md); this keeps a regression from landing.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

interface FormTotals {
  readonly schedules: number
  readonly failing: number
  readonly sent: number
  readonly lost: number
  readonly duplicates: number
  readonly unseen: number
  readonly maxOverPromiseMs: number
}

/** Runs the soak runner with these arguments and returns its exit code, JSON summary and stderr. */
const soak = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/sim-soak.ts", ...args], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    )
  })

describe("soak guard", () => {
  it("20 schedules per presence form: nothing lost, committed twice or unseen, no commit over the promise", async () => {
    const { code, stdout, stderr } = await soak(["--schedules", "20", "--from", "1", "--presence", "both", "--json"])
    const summary = JSON.parse(stdout) as { forms: Record<string, FormTotals>; failures: ReadonlyArray<{ command: string; problems: ReadonlyArray<string> }> }
    // A failing schedule names the command that replays it.
    expect(summary.failures.map((f) => `${f.problems.join(", ")}: ${f.command}`)).toEqual([])
    expect({ code, stderr: stderr.trim() }).toEqual({ code: 0, stderr: "" })
    for (const form of ["file", "discussion"]) {
      const t = summary.forms[form]!
      expect({ form, schedules: t.schedules, failing: t.failing, lost: t.lost, duplicates: t.duplicates, unseen: t.unseen }).toEqual({
        form,
        schedules: 20,
        failing: 0,
        lost: 0,
        duplicates: 0,
        unseen: 0
      })
      expect(t.sent).toBeGreaterThan(20 * 20)
      expect(t.maxOverPromiseMs).toBeLessThanOrEqual(0)
    }
  }, 600_000)

  it("a schedule that runs past its deadline fails with its replay command, and the soak goes on to the next", async () => {
    // Ten peers for four simulated hours take far longer than one real second; two such
    // schedules on one worker show that the killed worker is replaced.
    const { code, stdout } = await soak(["--schedules", "2", "--from", "7", "--peers", "10", "--minutes", "240", "--presence", "file", "--workers", "1", "--deadline", "1", "--json"])
    const summary = JSON.parse(stdout) as { forms: Record<string, FormTotals>; failures: ReadonlyArray<{ command: string; problems: ReadonlyArray<string> }> }
    expect(code).toBe(1)
    expect(summary.forms["file"]).toMatchObject({ schedules: 2, failing: 2 })
    expect(summary.failures).toEqual([7, 8].map((seed) => ({
      job: { seed, peers: 10, minutes: 240, presence: "file" },
      problems: ["the run failed: did not finish within 1 s of real time"],
      command: `npm run sim -- --peers 10 --minutes 240 --presence file --seed ${seed} --schedule random --json`,
      schedule: expect.any(String)
    })))
  }, 60_000)
})
