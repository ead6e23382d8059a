import { describe, expect, it } from "@effect/vitest"
import * as Message from "../../schemas/Message.ts"
import * as ToolMarkup from "../../schemas/ToolMarkup.ts"

const tools = new Set(["bash", "read"])

describe("ToolMarkup.parse (4.5.7 §6.3 step 7)", () => {
  it("turns blocks into calls (fenced or not, across lines); arguments from arguments, args, input or the other keys", () => {
    const text = [
      "First <tool_call>{\"name\":\"bash\",\"arguments\":{\"command\":\"ls\"}}</tool_call>",
      "<tool_call>\n```json\n{\"name\": \"read\", \"args\": {\"path\": \"a.txt\"}}\n```\n</tool_call>",
      "<tool_call>{\"name\":\"read\",\"input\":{\"path\":\"b\"}}</tool_call>",
      "<tool_call>{\"name\":\"bash\",\"command\":\"pwd\",\"timeout\":5}</tool_call> then",
      "<tool_call>{\"name\":\"bash\",\"arguments\":\"{\\\"command\\\":\\\"id\\\"}\"}</tool_call>"
    ].join("\n")
    expect(ToolMarkup.parse(text, tools)).toEqual({
      text: "First \n\n\n then",
      calls: [
        { name: "bash", arguments: "{\"command\":\"ls\"}" },
        { name: "read", arguments: "{\"path\":\"a.txt\"}" },
        { name: "read", arguments: "{\"path\":\"b\"}" },
        { name: "bash", arguments: "{\"command\":\"pwd\",\"timeout\":5}" },
        { name: "bash", arguments: "{\"command\":\"id\"}" } // a string holding an object is that object
      ],
      unknown: []
    })
  })

  it("drops calls to unknown tools (reported), leaves blocks that are not a JSON object with a name, and ignores text without blocks", () => {
    expect(ToolMarkup.parse("<tool_call>{\"name\":\"list_tools\",\"arguments\":{}}</tool_call>", tools)).toEqual({ text: "", calls: [], unknown: ["list_tools"] })
    const broken = "<tool_call>{not json}</tool_call>"
    expect(ToolMarkup.parse(broken, tools)).toBeUndefined()
    expect(ToolMarkup.parse("<tool_call>{\"arguments\":{}}</tool_call>", tools)).toBeUndefined()
    expect(ToolMarkup.parse("plain answer", tools)).toBeUndefined()
  })
})

describe("ToolMarkup.appendix and toTextTranscript", () => {
  it("the appendix lists every tool with its parameters and the markup", () => {
    const text = ToolMarkup.appendix([{ name: "bash", description: "Run a\n  command.", parameters: { type: "object" } }])
    expect(text.startsWith("# Tool Use\n")).toBe(true)
    expect(text).toContain("<tool_call>{\"name\": \"<tool name>\", \"arguments\": {<the arguments as a JSON object>}}</tool_call>")
    expect(text.endsWith("- bash: Run a command.\n  parameters: {\"type\":\"object\"}")).toBe(true)
  })

  it("writes calls and results as text, merges consecutive messages of one role, keeps the rest", () => {
    const messages: Array<Message.Message> = [
      Message.text("user", "list"),
      { role: "assistant", content: [{ type: "text", text: "Sure." }, { type: "tool_call", id: "c1", name: "bash", arguments: "{\"command\":\"ls\"}" }] },
      { role: "tool", content: [{ type: "tool_result", toolCallId: "c1", content: "a\nb" }] },
      Message.text("user", "and now?")
    ]
    expect(ToolMarkup.toTextTranscript(messages)).toEqual([
      Message.text("user", "list"),
      Message.text("assistant", "Sure.\n\n<tool_call>{\"name\":\"bash\",\"arguments\":{\"command\":\"ls\"}}</tool_call>"),
      Message.text("user", "<tool_result name=\"bash\">\na\nb\n</tool_result>\n\nand now?")
    ])
    expect(ToolMarkup.toTextTranscript([Message.text("user", "hi")])).toEqual([Message.text("user", "hi")])
  })
})
