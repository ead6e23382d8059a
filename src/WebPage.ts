/**
 * The web page of `codetether serve`: the files `scripts/build-web.ts` puts
 * in the package (`dist/web/index.html` and `dist/web/assets/*`), found next
 * to this module and read into memory once when a server starts (a few
 * hundred KB), so serving them reads nothing from disk and no request path
 * ever reaches the file system: a request names an asset, and only the names
 * found at start are answered.
 *
 * The page makes no request outside its origin: its scripts and styles are
 * bundled (no CDN, no web fonts), and {@link CONTENT_SECURITY_POLICY} tells
 * the browser to refuse anything else.
 *
 * @since 0.1.0
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as SafeFs from "../services/internal/SafeFs.ts"

/**
 * One file of the page: its bytes, `content-type`, and a strong `etag`.
 *
 * @since 0.1.0
 * @category models
 */
export interface File {
  readonly bytes: Uint8Array
  readonly contentType: string
  readonly etag: string
}

/**
 * The page: `index` (the HTML) and its assets by file name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Page {
  readonly directory: string
  readonly index: File
  readonly assets: ReadonlyMap<string, File>
}

/**
 * The `content-security-policy` of the page: scripts, styles and data only
 * from its own origin (images also as `data:` URLs, the transcript's
 * attachments), no frames, no forms, no plugins.
 *
 * @since 0.1.0
 * @category constants
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".html": "text/html; charset=utf-8"
}

/** Largest file of the page read (the bundle is ~300 KB). */
const MAX_FILE_BYTES = 8 * SafeFs.MiB

/** Asset names: what the build writes (`app-<hash>.js`), nothing that can name a path. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

const etagOf = (bytes: Uint8Array): string => {
  // FNV-1a over the bytes: enough to tell two builds apart
  let hash = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return `"${hash.toString(16)}-${bytes.length.toString(16)}"`
}

const fileOf = (path: string): File | undefined => {
  const bytes = SafeFs.readFileSync(path, { maxBytes: MAX_FILE_BYTES, follow: "never" })
  if (bytes === undefined) return undefined
  return {
    bytes,
    contentType: TYPES[NodePath.extname(path)] ?? "application/octet-stream",
    etag: etagOf(bytes)
  }
}

/**
 * Reads the page in `directory` (`index.html` and `assets/`). `undefined`
 * when there is no `index.html`; files that are not regular files (or are
 * symlinks) are left out. Throws `SafeFsError` on an unreadable file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (directory: string): Page | undefined => {
  const index = fileOf(NodePath.join(directory, "index.html"))
  if (index === undefined) return undefined
  const assets = new Map<string, File>()
  const assetsDir = NodePath.join(directory, "assets")
  const names = NodeFs.existsSync(assetsDir) ? NodeFs.readdirSync(assetsDir) : []
  for (const name of names) {
    if (!ASSET_NAME.test(name)) continue
    try {
      const file = fileOf(NodePath.join(assetsDir, name))
      if (file !== undefined) assets.set(name, file)
    } catch (e) {
      if (!(e instanceof SafeFs.SafeFsError)) throw e
    }
  }
  return { directory, index, assets }
}

/**
 * The page's directory in this package: `dist/web` beside the module that
 * runs (the sources, `dist/src` of the library, or `dist/bin/chunks` of the
 * CLI bundle); `undefined` when the package has no page (sources never
 * built with `npm run build:web`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const locate = (from: string = import.meta.url): string | undefined => {
  let dir = NodePath.dirname(fileURLToPath(from))
  for (let i = 0; i < 4; i++) {
    const candidates = NodePath.basename(dir) === "dist" ? [NodePath.join(dir, "web")] : [NodePath.join(dir, "dist", "web")]
    for (const candidate of candidates) {
      if (NodeFs.existsSync(NodePath.join(candidate, "index.html"))) return candidate
    }
    const parent = NodePath.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}
