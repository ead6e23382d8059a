/**
 * The lock file of a session in the file store: `<id>.json.lock` beside the
 * session, created with `O_CREAT|O_EXCL|O_NOFOLLOW` (mode 0600) and holding
 * the holder as one JSON object:
 *
 * ```json
 * {"pid":4242,"host":"build-7","process_start":"8812391","started_at":"2026-11-30T18:02:11.120Z","purpose":"prompt","token":"5b0c…"}
 * ```
 *
 * Its name never ends in `.json`, so 4.5.7 and every listing ignore it.
 *
 * A lock is stale when its holder is gone: same host, and no process with
 * that pid and that process start time (`/proc/<pid>/stat` field 22 on
 * Linux, so a reused pid does not keep a stale lock). A lock written by
 * another host is never taken over unless the caller forces it. An
 * unreadable or malformed lock (a repository can commit anything at that
 * path) is stale.
 *
 * Functions are synchronous: each is a handful of small syscalls.
 *
 * @internal
 */
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { pidAlive, tempPathFor } from "./AtomicWrite.ts"
import { O_CREATE_EXCL, readFileSync, SafeFsError } from "./SafeFs.ts"

/** What a lock is for: a running prompt, or a short save / delete. */
export type Purpose = "prompt" | "save" | "delete"

/** The content of a lock file. */
export interface Holder {
  readonly pid: number
  readonly host: string
  /** Start time of the holder process (clock ticks since boot, Linux), when known. */
  readonly processStart?: string | undefined
  /** When the lock was taken (RFC 3339, ms precision). */
  readonly startedAt: string
  readonly purpose: Purpose
  /** Unique per acquisition: tells two holders with the same pid apart. */
  readonly token: string
}

/** The start time of process `pid` in clock ticks since boot (Linux), or `undefined`. */
export const processStart = (pid: number | "self"): string | undefined => {
  try {
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "latin1")
    // the command name (field 2) may contain spaces and parentheses: fields follow the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[19] // field 22 overall: starttime
  } catch {
    return undefined
  }
}

const SELF_START = processStart("self")
const HOST = NodeOs.hostname()

/** This process's host name. */
export const hostName = (): string => HOST

/** Tokens of the locks this process holds (its own locks are never stale to it). */
const held = new Set<string>()

/** A holder for this process. */
export const makeHolder = (purpose: Purpose, now: Date = new Date()): Holder => ({
  pid: process.pid,
  host: HOST,
  ...(SELF_START === undefined ? {} : { processStart: SELF_START }),
  startedAt: now.toISOString(),
  purpose,
  token: NodeCrypto.randomUUID()
})

const encode = (holder: Holder): string =>
  JSON.stringify({
    pid: holder.pid,
    host: holder.host,
    ...(holder.processStart === undefined ? {} : { process_start: holder.processStart }),
    started_at: holder.startedAt,
    purpose: holder.purpose,
    token: holder.token
  })

const PURPOSES: ReadonlySet<string> = new Set(["prompt", "save", "delete"])

/** Parses a lock file's bytes; `undefined` when malformed. */
export const decode = (bytes: Uint8Array): Holder | undefined => {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"))
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const v = value as Record<string, unknown>
  if (
    typeof v.pid !== "number" || !Number.isSafeInteger(v.pid) || typeof v.host !== "string" ||
    typeof v.started_at !== "string" || typeof v.purpose !== "string" || !PURPOSES.has(v.purpose) ||
    typeof v.token !== "string"
  ) return undefined
  return {
    pid: v.pid,
    host: v.host,
    ...(typeof v.process_start === "string" ? { processStart: v.process_start } : {}),
    startedAt: v.started_at,
    purpose: v.purpose as Purpose,
    token: v.token
  }
}

/** Lock files are small; anything larger is not one of ours. */
const LOCK_CAP = 64 * 1024

/**
 * The current holder of the lock at `path`: `undefined` when there is no lock
 * file, `"invalid"` when something unreadable or malformed is there.
 */
export const read = (path: string): Holder | "invalid" | undefined => {
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(path, { maxBytes: LOCK_CAP })
  } catch (e) {
    if (e instanceof SafeFsError && e.kind === "Missing") return undefined
    return "invalid"
  }
  return bytes === undefined ? undefined : decode(bytes) ?? "invalid"
}

/**
 * Is `holder` gone? This process's own locks are live exactly when it holds
 * them; a lock of another host is never judged gone.
 */
export const isStale = (holder: Holder): boolean => {
  if (holder.host !== HOST) return false
  if (holder.pid === process.pid && holder.processStart === SELF_START) return !held.has(holder.token)
  if (!pidAlive(holder.pid)) return true
  if (holder.processStart === undefined) return false
  const start = processStart(holder.pid)
  return start !== undefined && start !== holder.processStart
}

/** The outcome of {@link tryAcquire}. */
export type Acquired =
  | { readonly _tag: "Acquired"; readonly holder: Holder; readonly tookOver?: Holder | "invalid" | undefined }
  | { readonly _tag: "Busy"; readonly holder: Holder }

const createExclusive = (path: string, holder: Holder): boolean => {
  // The lock appears with its content: written to a temp file of our own,
  // then hard-linked to the lock's name (which fails if a lock is there). A
  // lock created empty and written after would let another process read it
  // in between, judge it garbage and take it over.
  const temp = tempPathFor(path)
  writeNew(temp, holder)
  try {
    NodeFs.linkSync(temp, path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "EEXIST") return false
    // a file system without hard links: create the lock in place
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") return createInPlace(path, holder)
    throw e
  } finally {
    NodeFs.rmSync(temp, { force: true })
  }
  held.add(holder.token)
  return true
}

/** {@link createExclusive} where hard links are refused: `O_EXCL`, then the content. */
const createInPlace = (path: string, holder: Holder): boolean => {
  try {
    writeNew(path, holder)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
    throw e
  }
  held.add(holder.token)
  return true
}

/** Creates `path` (`O_EXCL|O_NOFOLLOW`, 0600) holding `holder`; removes it again if the write fails. */
const writeNew = (path: string, holder: Holder): void => {
  const fd = NodeFs.openSync(path, O_CREATE_EXCL, 0o600)
  try {
    NodeFs.writeSync(fd, encode(holder))
  } catch (e) {
    NodeFs.closeSync(fd)
    NodeFs.rmSync(path, { force: true })
    throw e
  }
  NodeFs.closeSync(fd)
}

/**
 * Moves the lock at `path` aside if it is still `expected` (same token, or
 * still invalid) and removes it. Returns `false` when another process
 * replaced it in the meantime (that lock is put back).
 */
const removeIf = (path: string, expected: Holder | "invalid"): boolean => {
  const aside = NodePath.join(
    NodePath.dirname(path),
    `.${NodePath.basename(path)}.${process.pid}.${NodeCrypto.randomBytes(6).toString("hex")}.stale`
  )
  try {
    NodeFs.renameSync(path, aside)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return true // removed by someone else: try again
    throw e
  }
  const moved = read(aside)
  const same = expected === "invalid" ? moved === "invalid" : moved !== "invalid" && moved?.token === expected.token
  if (!same) {
    // a new lock appeared between our read and the rename: give it back
    try {
      NodeFs.linkSync(aside, path)
    } catch {
      // someone created another one: theirs stands
    }
  }
  NodeFs.rmSync(aside, { force: true })
  return same
}

/**
 * Tries to take the lock at `path` for `purpose`: creates it when free, takes
 * over a stale (or, with `force`, any) lock, else reports the live holder.
 * Throws a Node error when the file system fails.
 */
export const tryAcquire = (path: string, purpose: Purpose, options: { readonly force?: boolean } = {}): Acquired => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const holder = makeHolder(purpose)
    if (createExclusive(path, holder)) return { _tag: "Acquired", holder }
    const current = read(path)
    if (current === undefined) continue // released meanwhile
    if (current !== "invalid" && !isStale(current) && options.force !== true) return { _tag: "Busy", holder: current }
    if (removeIf(path, current) && createExclusive(path, holder)) return { _tag: "Acquired", holder, tookOver: current }
  }
  const current = read(path)
  if (current !== undefined && current !== "invalid") return { _tag: "Busy", holder: current }
  throw new Error(`cannot take the lock ${path}: it keeps changing`)
}

/** Does this process still hold `holder`'s lock at `path`? */
export const stillHeld = (path: string, holder: Holder): boolean => {
  if (!held.has(holder.token)) return false
  const current = read(path)
  return current !== undefined && current !== "invalid" && current.token === holder.token
}

/** Releases `holder`'s lock at `path` if it is still the one there. Best effort. */
export const release = (path: string, holder: Holder): void => {
  held.delete(holder.token)
  const current = read(path)
  if (current === undefined || current === "invalid" || current.token !== holder.token) return
  try {
    removeIf(path, current)
  } catch {
    // the next acquirer judges it stale
  }
}

/** Removes whatever lock is at `path` (a forced delete). */
export const forceRemove = (path: string): void => {
  NodeFs.rmSync(path, { force: true })
}
