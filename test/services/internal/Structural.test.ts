import { describe, expect, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { compileWat } from "../../../scripts/build-wasm.ts"
import { base64 } from "../../../services/internal/structuralWasm.ts"
import {
  CHUNK_BYTES,
  JsonScanError,
  scanHandle,
  StructuralScanner
} from "../../../services/internal/Structural.ts"

interface Scan {
  readonly root: Array<[string, unknown]>
  readonly elements: Record<string, Array<unknown>>
}

const shared = new StructuralScanner()

const scanBuffer = (doc: Buffer, chunk: number, track = ["messages", "tool_uses"]): Scan => {
  const root: Array<[string, unknown]> = []
  const elements: Record<string, Array<unknown>> = {}
  const text = (start: number, end: number) => doc.subarray(start, end).toString("utf8")
  const scanner = shared.begin({
    onRootValue: (key, start, end) => {
      root.push([key, JSON.parse(text(start, end))])
    },
    onElement: (key, start, end) => {
      ;(elements[key] ??= []).push(JSON.parse(text(start, end)))
    }
  }, new Set(track))
  for (let offset = 0; offset < doc.length; offset += chunk) {
    const n = Math.min(chunk, doc.length - offset)
    doc.copy(scanner.buffer, 0, offset, offset + n)
    scanner.process(n)
  }
  scanner.finish()
  return { root, elements }
}

const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

const ALPHABET = ["a", "b", " ", "\\", "\\\\", "\"", "\\\"", "\n", "{", "}", "[", "]", ",", ":", "é", "日", "🚀", "\u0001", "\t"]

const randomString = (r: () => number): string => {
  const parts: Array<string> = []
  const n = Math.floor(r() * 40)
  for (let i = 0; i < n; i++) parts.push(ALPHABET[Math.floor(r() * ALPHABET.length)]!)
  // sometimes a long run of backslashes, to cross 64-byte blocks
  if (r() < 0.2) parts.push("\\".repeat(Math.floor(r() * 130)))
  return parts.join("")
}

const randomValue = (r: () => number, depth: number): unknown => {
  const k = r()
  if (depth > 3 || k < 0.3) return randomString(r)
  if (k < 0.4) return Math.floor(r() * 1e6) / 100
  if (k < 0.45) return r() < 0.5
  if (k < 0.5) return null
  if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [randomString(r), randomValue(r, depth + 1)]))
}

const randomDocument = (seed: number) => {
  const r = rng(seed)
  return {
    id: `s-${seed}`,
    title: r() < 0.5 ? null : randomString(r),
    metadata: { directory: `/tmp/${randomString(r)}`, shared: false, nested: randomValue(r, 1) },
    messages: Array.from({ length: Math.floor(r() * 12) }, () => ({
      role: "user",
      content: [{ type: "text", text: randomString(r) }, randomValue(r, 2)]
    })),
    tool_uses: Array.from({ length: Math.floor(r() * 3) }, () => randomValue(r, 2)),
    [randomString(r)]: randomValue(r, 1)
  }
}

describe("Structural", () => {
  it("the committed WASM module is the compiled structural.wat", async () => {
    const bytes = await compileWat()
    expect(Buffer.from(bytes).toString("base64")).toBe(base64)
  })

  it("reports the same root values and array elements as JSON.parse (random documents, all chunk sizes)", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const doc = randomDocument(seed)
      for (const layout of [JSON.stringify(doc), JSON.stringify(doc, null, 2)]) {
        const bytes = Buffer.from(layout)
        const parsed = JSON.parse(layout) as Record<string, unknown>
        for (const chunk of [64, 128, 192, 4096, CHUNK_BYTES]) {
          const scan = scanBuffer(bytes, chunk)
          const expectedRoot = Object.entries(parsed).filter(([k, v]) =>
            !((k === "messages" || k === "tool_uses") && Array.isArray(v))
          )
          expect(scan.root.filter(([k]) => k !== "messages" && k !== "tool_uses")).toEqual(
            expectedRoot.filter(([k]) => k !== "messages" && k !== "tool_uses")
          )
          expect(scan.elements["messages"] ?? []).toEqual(parsed["messages"])
          expect(scan.elements["tool_uses"] ?? []).toEqual(parsed["tool_uses"])
        }
      }
    }
  })

  it("finds strings correctly across long backslash runs at every block offset", () => {
    for (let run = 0; run < 140; run++) {
      for (const shift of [0, 1, 31, 62, 63]) {
        const value = `${"x".repeat(shift)}${"\\".repeat(run)}"}],`
        const doc = Buffer.from(JSON.stringify({ id: "a", messages: [value, { k: value }], t: value }))
        const scan = scanBuffer(doc, 64)
        expect(scan.elements["messages"]).toEqual([value, { k: value }])
        expect(scan.root).toEqual([["id", "a"], ["messages", [value, { k: value }]], ["t", value]])
      }
    }
  })

  const invalid: Array<[string, string]> = [
    ["", "file is empty"],
    ["   ", "file is empty"],
    ["\uFEFF{}", "unexpected byte-order mark"],
    ["[1,2]", "expected a JSON object at the root"],
    ["x{}", "expected a JSON object at the root"],
    ["{} x", "trailing characters after the JSON value"],
    ["{}{}", "trailing characters after the JSON value"],
    ["{\"a\":1", "unexpected end of file"],
    ["{\"a\":\"x", "unterminated string"],
    ["{\"a\":[1,2}", "mismatched closing bracket"],
    ["{\"a\":1}}", "unexpected closing bracket"],
    ["{\"a\":1,}", "trailing comma"],
    ["{\"a\":}", "expected a value"],
    ["{a:1}", "expected an object key"],
    ["{\"a\" 1 :2}", "expected an object key"],
    ["{\"messages\":[1,,2]}", "expected an array element"],
    ["{\"messages\":[1,2,]}", "trailing comma"],
    ["{\"a\":1 [2]}", "expected ',' or '}'"]
  ]
  for (const [doc, reason] of invalid) {
    it(`rejects ${JSON.stringify(doc)}: ${reason}`, () => {
      try {
        scanBuffer(Buffer.from(doc), 64)
        expect.unreachable("scan succeeded")
      } catch (e) {
        expect(e).toBeInstanceOf(JsonScanError)
        expect((e as JsonScanError).reason).toBe(reason)
      }
    })
  }

  it("rejects every truncation of a valid document", () => {
    const doc = Buffer.from(JSON.stringify(randomDocument(7)))
    for (let cut = 0; cut < doc.length; cut++) {
      expect(() => scanBuffer(doc.subarray(0, cut), 64)).toThrow(JsonScanError)
    }
  })

  it("scanHandle stops at a byte limit and resumes to the end", async () => {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "structural-"))
    const file = NodePath.join(dir, "doc.json")
    const doc = { id: "x", metadata: { shared: true }, messages: Array.from({ length: 2000 }, (_, i) => ({ i, s: "y".repeat(i % 97) })) }
    NodeFs.writeFileSync(file, JSON.stringify(doc))
    const handle = await NodeFs.promises.open(file, "r")
    try {
      const seen: Array<string> = []
      let elements = 0
      const scanner = new StructuralScanner().begin({
        onRootValue: (key) => {
          seen.push(key)
        },
        onElement: () => {
          elements++
        }
      }, new Set(["messages"]))
      expect(await scanHandle(handle, scanner, 1024)).toBe(false)
      expect(scanner.offset).toBe(1024)
      expect(seen).toEqual(["id", "metadata"])
      expect(await scanHandle(handle, scanner)).toBe(true)
      expect(scanner.done).toBe(true)
      expect(seen).toEqual(["id", "metadata", "messages"])
      expect(elements).toBe(2000)
    } finally {
      await handle.close()
      NodeFs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
