/**
 * A short soak as a guard (issue 8 §6): seeded random fault schedules in both presence
 * forms must lose nothing, commit nothing twice and leave nothing unseen. The full soak
 * (`npm run sim:soak -- --schedules 1000`) is a benchmark, not part of the suite.
 */
import { describe, expect, it } from "vitest"
import { randomSchedule, refusedMs } from "../../src/sim/fault-schedule.js"
import { simulate } from "../../src/sim/simulate.js"
import { runVirtualOrThrow } from "../../src/sim/virtual-time.js"

const SCHEDULES_PER_FORM = 10
const PEERS = 4
const MINUTES = 20

describe("short soak", () => {
  it.each(["file", "discussion"] as const)(
    `${SCHEDULES_PER_FORM} random fault schedules in %s form: nothing lost, duplicated or unseen; commits within the promise`,
    (presence) => {
      const failing: Array<string> = []
      for (let seed = 1; seed <= SCHEDULES_PER_FORM; seed++) {
        const schedule = randomSchedule(seed, MINUTES)
        const r = runVirtualOrThrow(simulate({ peers: PEERS, minutes: MINUTES, presence, seed, history: 0, faults: [], schedule }))
        const allowed = 10 * 60_000 + refusedMs(schedule)
        if (r.messagesSent === 0) failing.push(`seed ${seed}: nothing sent`)
        if (r.messagesLost + r.duplicatesCommitted + r.messagesUnseen > 0 || r.maxCommitLatencyMs > allowed) {
          failing.push(
            `npm run sim -- --peers ${PEERS} --minutes ${MINUTES} --presence ${presence} --seed ${seed} --schedule random: ` +
              `${r.messagesLost} lost, ${r.duplicatesCommitted} twice, ${r.messagesUnseen} unseen, wait ${r.maxCommitLatencyMs} ms`
          )
        }
      }
      expect(failing).toEqual([])
    },
    600_000
  )
})
