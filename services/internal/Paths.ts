/**
 * Path rules of codetether-agent 4.5.7 (Rust `std::path`), for comparing
 * workspaces and selecting session files.
 *
 * @internal
 */
import * as NodeFs from "node:fs"

/**
 * Rust `Path == Path`: compares components, so repeated separators, a trailing
 * separator and `.` components (except a leading `.` of a relative path) do not
 * matter; `..` does.
 */
export const componentsEqual = (a: string, b: string): boolean => normalizeComponents(a) === normalizeComponents(b)

/** A path's components joined by `/` (see {@link componentsEqual}). */
export const normalizeComponents = (path: string): string => {
  const absolute = path.startsWith("/")
  const parts = path.split("/").filter((part, i) => part !== "" && (part !== "." || (i === 0 && !absolute)))
  return (absolute ? "/" : "") + parts.join("/")
}

/**
 * `realpath`, or the path verbatim when it cannot be resolved (4.5.7
 * `canonicalize().unwrap_or(path)`). Synchronous: one syscall answered from
 * the kernel's dentry cache, far cheaper than a thread-pool round trip.
 */
export const canonicalize = (path: string): string => {
  try {
    return NodeFs.realpathSync.native(path)
  } catch {
    return path
  }
}

/**
 * Rust `Path::extension`: the text after the last `.` of the file name, where a
 * leading dot alone does not count (`.json` has no extension;
 * `.workspace_index.json` has `json`).
 */
export const extensionOf = (fileName: string): string | undefined => {
  const dot = fileName.lastIndexOf(".")
  return dot <= 0 ? undefined : fileName.slice(dot + 1)
}
