import Foundation
@testable import RouterChat
@testable import RouterSDK

// The decoders as they were before the byte-level rewrite: Foundation's JSONDecoder builds a
// JSONValue tree and the adapters read it. Kept, unchanged in what they accept, as the oracle the
// fast decoders are checked against (FastDecoderPropertyTests); not used by the library.

/// Foundation's reading of `body`, as the adapters used it.
func foundationJSON(_ body: [UInt8], _ what: String) throws(ProviderError) -> JSONValue {
    guard String(validating: body, as: UTF8.self) != nil else {
        throw ProviderError(.malformedResponse, message: "the \(what) is not UTF-8")
    }
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
        throw ProviderError(.malformedResponse, message: "the \(what) is not JSON")
    }
    return value
}

/// Compact sorted JSON text by Foundation's encoder (how tool arguments were re-encoded).
func foundationJSONText(_ value: JSONValue) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}

enum ReferenceOpenAI {
    static func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try foundationJSON(body, "OpenAI response")
        guard let choice = json["choices"]?[0], let message = choice["message"] else {
            throw ProviderError(.malformedResponse, message: "the OpenAI response has no choices[0].message")
        }
        let text = message["content"]?.string ?? ""
        let toolCalls = try (message["tool_calls"]?.array ?? []).map { call throws(ProviderError) in
            guard let id = call["id"]?.string, let name = call["function"]?["name"]?.string else {
                throw ProviderError(.malformedResponse, message: "an OpenAI tool call has no id or function name")
            }
            return ToolCall(id: id, name: name, arguments: call["function"]?["arguments"]?.string ?? "{}")
        }
        guard let usage = json["usage"], let input = WireParsing.tokens(usage["prompt_tokens"]?.integer),
            let output = WireParsing.tokens(usage["completion_tokens"]?.integer)
        else {
            throw ProviderError(.malformedResponse, message: "the OpenAI response has no usage")
        }
        return DecodedReply(text: text, toolCalls: toolCalls, finishReason: OpenAIChatAdapter.finishReason(choice["finish_reason"]?.string), usage: Usage(inputTokens: input, outputTokens: output))
    }

    struct StreamDecoder {
        private var calls: [Int: (id: String, name: String, arguments: String)] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            if event.data == "[DONE]" { return finish() + [.end] }
            let json = try foundationJSON(Array(event.data.utf8), "OpenAI stream event")
            if let error = json["error"], !error.isNull {
                throw ProviderError(.serverError, message: error["message"]?.string ?? "")
            }
            var pieces: [StreamPiece] = []
            if let choice = json["choices"]?[0] {
                if let text = choice["delta"]?["content"]?.string, !text.isEmpty { pieces.append(.text(text)) }
                for fragment in choice["delta"]?["tool_calls"]?.array ?? [] {
                    let index = Int(fragment["index"]?.integer ?? 0)
                    var call = calls[index] ?? (id: "", name: "", arguments: "")
                    if let id = fragment["id"]?.string { call.id = id }
                    if let name = fragment["function"]?["name"]?.string { call.name += name }
                    if let arguments = fragment["function"]?["arguments"]?.string { call.arguments += arguments }
                    calls[index] = call
                }
                if let reason = choice["finish_reason"]?.string { pieces.append(.finish(OpenAIChatAdapter.finishReason(reason))) }
            }
            if let usage = json["usage"], !usage.isNull {
                pieces.append(.usage(input: WireParsing.tokens(usage["prompt_tokens"]?.integer), output: WireParsing.tokens(usage["completion_tokens"]?.integer)))
            }
            return pieces
        }

        mutating func finish() -> [StreamPiece] {
            defer { calls.removeAll() }
            return calls.keys.sorted().compactMap { index in
                guard let call = calls[index] else { return nil }
                return .toolCall(ToolCall(id: call.id, name: call.name, arguments: call.arguments.isEmpty ? "{}" : call.arguments))
            }
        }
    }
}

enum ReferenceAnthropic {
    static func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try foundationJSON(body, "Anthropic response")
        guard let blocks = json["content"]?.array, let usage = usage(json["usage"]), let input = usage.input, let output = usage.output else {
            throw ProviderError(.malformedResponse, message: "the Anthropic response has no content or usage")
        }
        var text = ""
        var calls: [ToolCall] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text": text += block["text"]?.string ?? ""
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw ProviderError(.malformedResponse, message: "an Anthropic tool_use block has no id or name")
                }
                calls.append(ToolCall(id: id, name: name, arguments: foundationJSONText(block["input"] ?? [:])))
            default: break
            }
        }
        return DecodedReply(text: text, toolCalls: calls, finishReason: AnthropicMessagesAdapter.finishReason(json["stop_reason"]?.string), usage: Usage(inputTokens: input, outputTokens: output))
    }

    static func usage(_ usage: JSONValue?) -> (input: Int?, output: Int?)? {
        guard let usage, case .object = usage else { return nil }
        let input = WireParsing.tokens(
            usage["input_tokens"]?.integer, usage["cache_creation_input_tokens"]?.integer, usage["cache_read_input_tokens"]?.integer)
        return (input, WireParsing.tokens(usage["output_tokens"]?.integer))
    }

    struct StreamDecoder {
        private var tools: [Int64: (id: String, name: String, json: String)] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            let json = try foundationJSON(Array(event.data.utf8), "Anthropic stream event")
            switch json["type"]?.string ?? event.event {
            case "message_start":
                let usage = ReferenceAnthropic.usage(json["message"]?["usage"])
                return [.usage(input: usage?.input, output: usage?.output)]
            case "content_block_start":
                let block = json["content_block"] ?? .null
                if block["type"]?.string == "tool_use", let index = json["index"]?.integer {
                    tools[index] = (block["id"]?.string ?? "", block["name"]?.string ?? "", "")
                }
                if let text = block["text"]?.string, !text.isEmpty { return [.text(text)] }
                return []
            case "content_block_delta":
                let delta = json["delta"] ?? .null
                if let text = delta["text"]?.string { return text.isEmpty ? [] : [.text(text)] }
                if let fragment = delta["partial_json"]?.string, let index = json["index"]?.integer {
                    tools[index]?.json += fragment
                }
                return []
            case "content_block_stop":
                guard let index = json["index"]?.integer, let tool = tools.removeValue(forKey: index) else { return [] }
                return [.toolCall(ToolCall(id: tool.id, name: tool.name, arguments: tool.json.isEmpty ? "{}" : tool.json))]
            case "message_delta":
                var pieces: [StreamPiece] = []
                if let reason = json["delta"]?["stop_reason"]?.string { pieces.append(.finish(AnthropicMessagesAdapter.finishReason(reason))) }
                if let usage = ReferenceAnthropic.usage(json["usage"]) { pieces.append(.usage(input: usage.input, output: usage.output)) }
                return pieces
            case "message_stop":
                return finish() + [.end]
            case "error":
                throw ProviderError(.serverError, message: json["error"]?["message"]?.string ?? "")
            default:
                return []
            }
        }

        mutating func finish() -> [StreamPiece] {
            defer { tools.removeAll() }
            return tools.keys.sorted().compactMap { index in
                tools[index].map { .toolCall(ToolCall(id: $0.id, name: $0.name, arguments: $0.json.isEmpty ? "{}" : $0.json)) }
            }
        }
    }
}

enum ReferenceGemini {
    static func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try foundationJSON(body, "Gemini response")
        guard let candidate = json["candidates"]?[0] else {
            if let reason = json["promptFeedback"]?["blockReason"]?.string {
                throw ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: \(reason)")
            }
            throw ProviderError(.malformedResponse, message: "the Gemini response has no candidates")
        }
        var text = ""
        var calls: [ToolCall] = []
        for part in candidate["content"]?["parts"]?.array ?? [] {
            if let fragment = part["text"]?.string, part["thought"] != .bool(true) { text += fragment }
            if let call = toolCall(part, index: calls.count) { calls.append(call) }
        }
        guard let usage = usage(json["usageMetadata"]), let input = usage.input else {
            throw ProviderError(.malformedResponse, message: "the Gemini response has no usageMetadata")
        }
        let reason = GeminiAdapter.finishReason(candidate["finishReason"]?.string, hasToolCalls: !calls.isEmpty)
        return DecodedReply(text: text, toolCalls: calls, finishReason: reason, usage: Usage(inputTokens: input, outputTokens: usage.output ?? 0))
    }

    static func toolCall(_ part: JSONValue, index: Int) -> ToolCall? {
        guard let call = part["functionCall"], let name = call["name"]?.string else { return nil }
        return ToolCall(id: call["id"]?.string ?? "call_\(index)", name: name, arguments: foundationJSONText(call["args"] ?? [:]))
    }

    static func usage(_ metadata: JSONValue?) -> (input: Int?, output: Int?)? {
        guard let metadata, case .object = metadata else { return nil }
        let output = WireParsing.tokens(metadata["candidatesTokenCount"]?.integer, metadata["thoughtsTokenCount"]?.integer)
        return (WireParsing.tokens(metadata["promptTokenCount"]?.integer), output ?? 0)
    }

    struct StreamDecoder {
        private var callCount = 0

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            let json = try foundationJSON(Array(event.data.utf8), "Gemini stream event")
            if let error = json["error"], !error.isNull {
                throw ProviderError(.serverError, message: error["message"]?.string ?? "")
            }
            var pieces: [StreamPiece] = []
            let candidate = json["candidates"]?[0]
            if candidate == nil, let reason = json["promptFeedback"]?["blockReason"]?.string {
                throw ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: \(reason)")
            }
            var sawCall = false
            for part in candidate?["content"]?["parts"]?.array ?? [] {
                if let text = part["text"]?.string, !text.isEmpty, part["thought"] != .bool(true) { pieces.append(.text(text)) }
                if let call = ReferenceGemini.toolCall(part, index: callCount) {
                    callCount += 1
                    sawCall = true
                    pieces.append(.toolCall(call))
                }
            }
            if let usage = ReferenceGemini.usage(json["usageMetadata"]) { pieces.append(.usage(input: usage.input, output: usage.output)) }
            if let reason = candidate?["finishReason"]?.string {
                pieces.append(.finish(GeminiAdapter.finishReason(reason, hasToolCalls: sawCall || callCount > 0)))
                pieces.append(.end)
            }
            return pieces
        }
    }
}
