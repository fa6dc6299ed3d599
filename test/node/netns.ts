/**
 * A small internet out of Linux network namespaces, for NAT traversal tests (issue 10 §2).
 *
 *   home A 192.168.1.2 ── router A (MASQUERADE) 100.64.1.2 ──┐
 *                                                            public 198.18.0.1 (coturn, hub)
 *   home B 192.168.2.2 ── router B (MASQUERADE) 100.64.2.2 ──┘
 *
 * The public namespace forwards between the routers' outer links and holds the services on
 * 198.18.0.1 (an address on its loopback). The homes have no route to each other except
 * through their routers' public addresses. Every name carries a per-run suffix, and `destroy`
 * removes every namespace (with it its veths and rules) even after a failure half way.
 * Needs root, `ip` (iproute2) and `iptables`; nothing here skips: a refusal throws, with what
 * the kernel said.
 */
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"

/** The public address of the services (coturn, hub). */
export const PUBLIC_IP = "198.18.0.1"

/** One home: its namespace, its router's namespace and outer interface, and their addresses. */
export interface Home {
  readonly ns: string
  readonly router: string
  /** The router's interface towards the public namespace. */
  readonly outer: string
  /** The router's public address now (changes with `changeAddress`). */
  outerIp: string
  readonly subnet: string
  readonly hostIp: string
}

/** A built topology. */
export interface SmallInternet {
  readonly pub: string
  readonly a: Home
  readonly b: Home
  /** Runs a command inside a namespace; returns its stdout. */
  readonly exec: (ns: string, command: string, args: ReadonlyArray<string>) => string
  /** The argv prefix that runs a program inside `ns` (for child processes). */
  readonly wrap: (ns: string) => ReadonlyArray<string>
  /** Drops UDP between the two homes' public addresses in the public namespace (TURN stays reachable). */
  readonly blockUdpBetweenHomes: () => void
  /** Undoes `blockUdpBetweenHomes`. */
  readonly unblockUdpBetweenHomes: () => void
  /** Gives `home`'s router a new public address; its NAT mappings go with the old one. */
  readonly changeAddress: (home: Home, newIp: string) => void
  /** Removes every namespace this run created. */
  readonly destroy: () => void
}

const IP = "ip"

const run = (command: string, args: ReadonlyArray<string>): string => {
  try {
    return execFileSync(command, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  } catch (e) {
    const stderr = typeof e === "object" && e !== null && "stderr" in e ? String((e as { stderr: unknown }).stderr) : ""
    throw new Error(`network namespace setup failed (the NAT test needs root, iproute2, iptables and a kernel that allows network namespaces): \`${command} ${args.join(" ")}\`: ${stderr.trim() || String(e)}`)
  }
}

/**
 * Builds the topology. Throws a clear error when the kernel or the tools refuse (not root,
 * no netns support, no iptables): the NAT test is meant to fail then, not to skip.
 */
export const buildSmallInternet = (): SmallInternet => {
  const id = randomBytes(3).toString("hex")
  const pub = `sg${id}pub`
  const created: Array<string> = []
  const exec = (ns: string, command: string, args: ReadonlyArray<string>) => run(IP, ["netns", "exec", ns, command, ...args])
  const addNs = (name: string) => {
    run(IP, ["netns", "add", name])
    created.push(name)
    exec(name, IP, ["link", "set", "lo", "up"])
    exec(name, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"])
  }
  /** A veth pair with one end in each namespace, addressed and up. */
  const link = (nsA: string, ifA: string, ipA: string, nsB: string, ifB: string, ipB: string) => {
    run(IP, ["link", "add", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB])
    exec(nsA, IP, ["addr", "add", ipA, "dev", ifA])
    exec(nsB, IP, ["addr", "add", ipB, "dev", ifB])
    exec(nsA, IP, ["link", "set", ifA, "up"])
    exec(nsB, IP, ["link", "set", ifB, "up"])
  }
  const destroy = () => {
    for (const name of created.splice(0).reverse()) {
      try {
        run(IP, ["netns", "del", name])
      } catch {
        // Already gone; nothing else to undo (veths and rules die with their namespace).
      }
    }
  }
  try {
    addNs(pub)
    exec(pub, IP, ["addr", "add", `${PUBLIC_IP}/32`, "dev", "lo"])
    const home = (n: 1 | 2, tag: "a" | "b"): Home => {
      const router = `sg${id}r${tag}`
      const ns = `sg${id}h${tag}`
      addNs(router)
      addNs(ns)
      const outer = `sg${id}${tag}o`
      const outerIp = `100.64.${n}.2`
      link(pub, `sg${id}${tag}p`, `100.64.${n}.1/24`, router, outer, `${outerIp}/24`)
      exec(router, IP, ["route", "add", "default", "via", `100.64.${n}.1`])
      link(router, `sg${id}${tag}i`, `192.168.${n}.1/24`, ns, `sg${id}${tag}h`, `192.168.${n}.2/24`)
      exec(ns, IP, ["route", "add", "default", "via", `192.168.${n}.1`])
      exec(router, "iptables", ["-t", "nat", "-A", "POSTROUTING", "-o", outer, "-j", "MASQUERADE"])
      // Like a home router, it drops unsolicited packets to itself. Without this, a peer's check
      // arriving before this side's first packet leaves a conntrack entry that makes MASQUERADE
      // pick another port for the reply (symmetric behaviour): a dropped packet's entry is never kept.
      exec(router, "iptables", ["-A", "INPUT", "-i", outer, "-p", "udp", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP"])
      return { ns, router, outer, outerIp, subnet: `192.168.${n}.0/24`, hostIp: `192.168.${n}.2` }
    }
    const a = home(1, "a")
    const b = home(2, "b")
    const dropRules = (flag: "-A" | "-D") => {
      for (const [src, dst] of [["100.64.1.0/24", "100.64.2.0/24"], ["100.64.2.0/24", "100.64.1.0/24"]] as const) {
        exec(pub, "iptables", [flag, "FORWARD", "-p", "udp", "-s", src, "-d", dst, "-j", "DROP"])
      }
    }
    return {
      pub,
      a,
      b,
      exec,
      wrap: (ns) => [IP, "netns", "exec", ns],
      blockUdpBetweenHomes: () => dropRules("-A"),
      unblockUdpBetweenHomes: () => dropRules("-D"),
      changeAddress: (h, newIp) => {
        // Removing the address also makes the kernel forget the MASQUERADE mappings made with it.
        exec(h.router, IP, ["addr", "del", `${h.outerIp}/24`, "dev", h.outer])
        exec(h.router, IP, ["addr", "add", `${newIp}/24`, "dev", h.outer])
        exec(h.router, IP, ["route", "replace", "default", "via", newIp.replace(/\.\d+$/, ".1")])
        h.outerIp = newIp
      },
      destroy
    }
  } catch (e) {
    destroy()
    throw e
  }
}
