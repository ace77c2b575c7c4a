import Foundation
import RouterSDK
internal import RouterChat

/// How the ``FakeProviderServer`` speaks each provider's format: complete bodies, stream events
/// and 429s, shaped as in the providers' API references.
enum FakeWireFormat: String, Sendable, CaseIterable {
    case openai, anthropic, gemini

    /// The format a request path belongs to (`/openai/…`, `/anthropic/…`, `/gemini/…`).
    init?(path: String) {
        guard let first = path.split(separator: "/").first, let format = FakeWireFormat(rawValue: String(first)) else { return nil }
        self = format
    }

    /// The credential a request carried, wherever the official clients put it: OpenAI
    /// `Authorization: Bearer`; Anthropic `x-api-key` or `Authorization: Bearer` (the SDK's
    /// `auth_token`); Gemini `x-goog-api-key` or the `?key=` query parameter.
    func secret(path: String, _ header: (String) -> String?) -> String {
        func bearer() -> String? {
            guard let value = header("authorization"), value.lowercased().hasPrefix("bearer ") else { return nil }
            return String(value.dropFirst("bearer ".count))
        }
        switch self {
        case .openai: return bearer() ?? ""
        case .anthropic: return header("x-api-key") ?? bearer() ?? ""
        case .gemini: return header("x-goog-api-key") ?? Self.queryParameter("key", in: path) ?? ""
        }
    }

    private static func queryParameter(_ name: String, in path: String) -> String? {
        guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]).removingPercentEncoding ?? String(parts[1]) }
        }
        return nil
    }

    /// Text split into a few stream events (words, kept with their spaces).
    static func pieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == " " { pieces.append(current); current = "" }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    private func finish(_ reason: FinishReason) -> String {
        switch (self, reason) {
        case (.openai, .stop): "stop"
        case (.openai, .length): "length"
        case (.openai, .toolCalls): "tool_calls"
        case (.openai, .contentFilter): "content_filter"
        case (.anthropic, .stop): "end_turn"
        case (.anthropic, .length): "max_tokens"
        case (.anthropic, .toolCalls): "tool_use"
        case (.anthropic, .contentFilter): "refusal"
        case (.gemini, .length): "MAX_TOKENS"
        case (.gemini, .contentFilter): "SAFETY"
        case (.gemini, _): "STOP"
        default: "other"
        }
    }

    private static func arguments(_ call: ToolCall) -> JSONValue {
        JSONValue(parsing: Array(call.arguments.utf8)) ?? [:]
    }

    /// A complete (non-streaming) answer.
    func body(_ reply: FakeReply, model: String) -> JSONValue {
        switch self {
        case .openai:
            var message: [String: JSONValue] = ["role": "assistant", "content": reply.text.isEmpty ? .null : .string(reply.text)]
            if !reply.toolCalls.isEmpty {
                message["tool_calls"] = .array(reply.toolCalls.map { ["id": .string($0.id), "type": "function", "function": ["name": .string($0.name), "arguments": .string($0.arguments)]] })
            }
            return [
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_767_225_600, "model": .string(model),
                "choices": [["index": 0, "message": .object(message), "logprobs": nil, "finish_reason": .string(finish(reply.finishReason))]],
                "usage": ["prompt_tokens": .integer(Int64(reply.inputTokens)), "completion_tokens": .integer(Int64(reply.outputTokens)), "total_tokens": .integer(reply.totalTokens)],
            ]
        case .anthropic:
            var content: [JSONValue] = reply.text.isEmpty ? [] : [["type": "text", "text": .string(reply.text)]]
            content += reply.toolCalls.map { ["type": "tool_use", "id": .string($0.id), "name": .string($0.name), "input": Self.arguments($0)] }
            return [
                "id": "msg_fake", "type": "message", "role": "assistant", "model": .string(model), "content": .array(content),
                "stop_reason": .string(finish(reply.finishReason)), "stop_sequence": nil,
                "usage": ["input_tokens": .integer(Int64(reply.inputTokens)), "output_tokens": .integer(Int64(reply.outputTokens))],
            ]
        case .gemini:
            var parts: [JSONValue] = reply.text.isEmpty ? [] : [["text": .string(reply.text)]]
            parts += reply.toolCalls.map { ["functionCall": ["name": .string($0.name), "args": Self.arguments($0)]] }
            return [
                "candidates": [["content": ["role": "model", "parts": .array(parts)], "finishReason": .string(finish(reply.finishReason)), "index": 0]],
                "usageMetadata": ["promptTokenCount": .integer(Int64(reply.inputTokens)), "candidatesTokenCount": .integer(Int64(reply.outputTokens)), "totalTokenCount": .integer(reply.totalTokens)],
                "modelVersion": .string(model),
            ]
        }
    }

    /// The events of a streamed answer, each a complete `text/event-stream` block; when
    /// `complete` is false the final event(s) are left out (a truncated stream). OpenAI sends
    /// its usage chunk only when the request asked for it (`stream_options.include_usage`).
    func events(_ reply: FakeReply, model: String, complete: Bool = true, includeUsage: Bool = true) -> [String] {
        func data(_ value: JSONValue) -> String { "data: \(value.jsonText)\n\n" }
        func event(_ name: String, _ value: JSONValue) -> String { "event: \(name)\ndata: \(value.jsonText)\n\n" }
        let input = Int64(reply.inputTokens), output = Int64(reply.outputTokens)
        switch self {
        case .openai:
            func chunk(_ delta: JSONValue, finish: JSONValue = nil) -> String {
                data(["id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_767_225_600, "model": .string(model), "choices": [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish]]])
            }
            var blocks = [chunk(["role": "assistant", "content": ""])]
            blocks += Self.pieces(reply.text).map { chunk(["content": .string($0)]) }
            for (index, call) in reply.toolCalls.enumerated() {
                // The name first, then the arguments in two fragments, as OpenAI streams them.
                blocks.append(chunk(["tool_calls": [["index": .integer(Int64(index)), "id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": ""]]]]))
                let middle = call.arguments.index(call.arguments.startIndex, offsetBy: call.arguments.count / 2)
                for fragment in [String(call.arguments[..<middle]), String(call.arguments[middle...])] {
                    blocks.append(chunk(["tool_calls": [["index": .integer(Int64(index)), "function": ["arguments": .string(fragment)]]]]))
                }
            }
            guard complete else { return blocks }
            blocks.append(chunk([:], finish: .string(finish(reply.finishReason))))
            if includeUsage {
                blocks.append(data(["id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_767_225_600, "model": .string(model), "choices": [], "usage": ["prompt_tokens": .integer(input), "completion_tokens": .integer(output), "total_tokens": .integer(reply.totalTokens)]]))
            }
            return blocks + ["data: [DONE]\n\n"]
        case .anthropic:
            var blocks = [
                event("message_start", ["type": "message_start", "message": ["id": "msg_fake", "type": "message", "role": "assistant", "model": .string(model), "content": [], "stop_reason": nil, "usage": ["input_tokens": .integer(input), "output_tokens": 1]]]),
                ": keep-alive comment\n\n",
                event("ping", ["type": "ping"]),
            ]
            var index: Int64 = 0
            if !reply.text.isEmpty {
                blocks.append(event("content_block_start", ["type": "content_block_start", "index": .integer(index), "content_block": ["type": "text", "text": ""]]))
                blocks += Self.pieces(reply.text).map { event("content_block_delta", ["type": "content_block_delta", "index": .integer(index), "delta": ["type": "text_delta", "text": .string($0)]]) }
                blocks.append(event("content_block_stop", ["type": "content_block_stop", "index": .integer(index)]))
                index += 1
            }
            for call in reply.toolCalls {
                blocks.append(event("content_block_start", ["type": "content_block_start", "index": .integer(index), "content_block": ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": [:]]]))
                let middle = call.arguments.index(call.arguments.startIndex, offsetBy: call.arguments.count / 2)
                for fragment in [String(call.arguments[..<middle]), String(call.arguments[middle...])] {
                    blocks.append(event("content_block_delta", ["type": "content_block_delta", "index": .integer(index), "delta": ["type": "input_json_delta", "partial_json": .string(fragment)]]))
                }
                blocks.append(event("content_block_stop", ["type": "content_block_stop", "index": .integer(index)]))
                index += 1
            }
            guard complete else { return blocks }
            blocks.append(event("message_delta", ["type": "message_delta", "delta": ["stop_reason": .string(finish(reply.finishReason)), "stop_sequence": nil], "usage": ["output_tokens": .integer(output)]]))
            return blocks + [event("message_stop", ["type": "message_stop"])]
        case .gemini:
            let pieces = Self.pieces(reply.text)
            var blocks: [String] = pieces.enumerated().map { offset, piece in
                data(["candidates": [["content": ["role": "model", "parts": [["text": .string(piece)]]], "index": 0]],
                      "usageMetadata": ["promptTokenCount": .integer(input), "candidatesTokenCount": .integer(Int64(offset + 1))]])
            }
            guard complete else { return blocks }
            let calls: [JSONValue] = reply.toolCalls.map { ["functionCall": ["name": .string($0.name), "args": Self.arguments($0)]] }
            blocks.append(data([
                "candidates": [["content": ["role": "model", "parts": .array(calls)], "finishReason": .string(finish(reply.finishReason)), "index": 0]],
                "usageMetadata": ["promptTokenCount": .integer(input), "candidatesTokenCount": .integer(output), "totalTokenCount": .integer(reply.totalTokens)],
            ]))
            return blocks
        }
    }

    /// A 429 body in the provider's shape.
    func rateLimitedBody(retryAfterSeconds: Int?) -> JSONValue {
        switch self {
        case .openai:
            ["error": ["message": "Rate limit reached for requests", "type": "requests", "param": nil, "code": "rate_limit_exceeded"]]
        case .anthropic:
            ["type": "error", "error": ["type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"]]
        case .gemini:
            ["error": [
                "code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
                "details": [["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": .string("\(retryAfterSeconds ?? 1)s")]],
            ]]
        }
    }
}
