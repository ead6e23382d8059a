/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb -N` into a
 * temporary directory (as the `postgres` user when running as root:
 * PostgreSQL refuses to run as root), `pg_ctl start` on 127.0.0.1 and a free
 * port with `fsync=off` (a cluster that lives for one run needs no
 * durability; with fsync on, initdb alone took minutes on these disks), and
 * `stop` removes everything.
 *
 * The server binaries come from the Debian package (`/usr/lib/postgresql/<version>/bin`,
 * version 15 preferred); when none is installed and we are root, `postgresql` is
 * installed with apt-get first.
 */
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

export interface Server {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, no password). */
  readonly url: string
  readonly port: number
  /** Stops the server and removes its directory. */
  readonly stop: () => void
}

const isRoot = () => process.getuid?.() === 0

const findBinDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!NodeFs.existsSync(root)) return undefined
  const versions = NodeFs.readdirSync(root)
    .filter((v) => NodeFs.existsSync(NodePath.join(root, v, "bin", "initdb")))
    .sort((a, b) => (a === "15" ? -1 : b === "15" ? 1 : Number(b) - Number(a)))
  return versions.length === 0 ? undefined : NodePath.join(root, versions[0]!, "bin")
}

/** The server binaries, installing Debian's `postgresql` package when they are missing. */
export const binDir = (): string => {
  const found = findBinDir()
  if (found !== undefined) return found
  if (!isRoot()) throw new Error("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (install the postgresql package)")
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  NodeChild.execFileSync("apt-get", ["update"], { stdio: "inherit", env })
  NodeChild.execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], { stdio: "inherit", env })
  const installed = findBinDir()
  if (installed === undefined) throw new Error("apt-get installed postgresql but no initdb was found in /usr/lib/postgresql/*/bin")
  return installed
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = NodeNet.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as NodeNet.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** Runs a server binary, as `postgres` when we are root. */
const runAsOwner = (bin: string, args: ReadonlyArray<string>) => {
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] as const : [bin, args] as const
  NodeChild.execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] })
}

/** Starts a new cluster; `maxConnections` is the server's `max_connections`. */
export const start = async (options: { readonly maxConnections?: number } = {}): Promise<Server> => {
  const bin = binDir()
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "codetether-pg-"))
  if (isRoot()) {
    const uid = Number(NodeChild.execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(NodeChild.execFileSync("id", ["-g", "postgres"]).toString().trim())
    NodeFs.chownSync(dir, uid, gid)
  }
  NodeFs.chmodSync(dir, 0o700)
  const data = NodePath.join(dir, "data")
  const remove = () => NodeFs.rmSync(dir, { recursive: true, force: true })
  try {
    runAsOwner(NodePath.join(bin, "initdb"), ["-N", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
    const port = await freePort()
    const settings = [
      "-c listen_addresses=127.0.0.1",
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      `-c max_connections=${options.maxConnections ?? 400}`
    ].join(" ")
    runAsOwner(NodePath.join(bin, "pg_ctl"), ["-D", data, "-o", settings, "-l", NodePath.join(dir, "server.log"), "-w", "-t", "60", "start"])
    let stopped = false
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      port,
      stop: () => {
        if (stopped) return
        stopped = true
        try {
          runAsOwner(NodePath.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"])
        } finally {
          remove()
        }
      }
    }
  } catch (e) {
    const log = NodePath.join(dir, "server.log")
    const detail = NodeFs.existsSync(log) ? `\n${NodeFs.readFileSync(log, "utf8")}` : ""
    remove()
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? ""
    throw new Error(`cannot start a throwaway PostgreSQL: ${(e as Error).message}${stderr}${detail}`)
  }
}
