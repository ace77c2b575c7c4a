internal import Foundation
internal import NIOCore
internal import RouterChat
internal import RouterSDK

/// Writes answers as OpenAI's chat completions API does: a `chat.completion` object, or a stream
/// of `chat.completion.chunk` server-sent events ending in `data: [DONE]` (with a usage chunk
/// before it when the caller asked), and errors as `{"error": {"message", "type", "param", "code"}}`.
struct OpenAIChatCompletionWriter: AnswerWriter {
    static let streamContentType = "text/event-stream"

    /// The completion's id (`chatcmpl-…`), the same on every chunk of a stream.
    let id: String
    /// Seconds since the epoch (`created`).
    let created: Int64
    /// The model named in the answer: the one the caller asked for.
    let model: String
    /// Whether a stream ends with a usage chunk (`stream_options.include_usage`).
    let includeUsage: Bool
    private var toolCalls = 0
    private var usage: Usage?

    /// Creates a writer for one answer to `model`.
    init(model: String, includeUsage: Bool) {
        id = "chatcmpl-\(UUID().uuidString.lowercased())"
        created = Int64(Date().timeIntervalSince1970)
        self.model = model
        self.includeUsage = includeUsage
    }

    mutating func opening() -> ByteBuffer {
        .serverSentEvent(chunk(delta: ["role": "assistant", "content": ""], finishReason: nil))
    }

    mutating func write(_ event: ChatStreamEvent) -> ByteBuffer {
        switch event {
        case .started: return ByteBuffer()
        case .text(let text): return .serverSentEvent(chunk(delta: ["content": .string(text)], finishReason: nil))
        case .toolCall(let call):
            let fragment: JSONValue = [
                "index": .integer(Int64(toolCalls)), "id": .string(call.id), "type": "function",
                "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
            ]
            toolCalls += 1
            return .serverSentEvent(chunk(delta: ["tool_calls": [fragment]], finishReason: nil))
        case .finished(let reason, let usage, _):
            self.usage = usage
            return .serverSentEvent(chunk(delta: [:], finishReason: Self.finishReason(reason)))
        }
    }

    mutating func closing() -> ByteBuffer {
        var buffer = ByteBuffer()
        if includeUsage, let usage {
            // Asked for: a last chunk with no choices and the whole answer's usage.
            buffer.writeImmutableBuffer(.serverSentEvent(JSONValue.object([
                "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
                "choices": [], "usage": Self.usage(usage),
            ]).jsonBytes))
        }
        buffer.writeString("data: [DONE]\n\n")
        return buffer
    }

    /// OpenAI ends a failed stream with an error object in place of a chunk.
    mutating func failure(_ error: GatewayError) -> ByteBuffer {
        .serverSentEvent(Self.errorBody(error))
    }

    /// A whole `chat.completion`.
    func completion(_ response: ChatResponse) -> [UInt8] {
        var message: [String: JSONValue] = ["role": "assistant", "content": response.text.isEmpty && !response.toolCalls.isEmpty ? .null : .string(response.text)]
        if !response.toolCalls.isEmpty {
            message["tool_calls"] = .array(response.toolCalls.map { call in
                ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        }
        let choice: JSONValue = ["index": 0, "message": .object(message), "logprobs": nil, "finish_reason": .string(Self.finishReason(response.finishReason))]
        return JSONValue.object([
            "id": .string(id), "object": "chat.completion", "created": .integer(created), "model": .string(model),
            "choices": [choice], "usage": Self.usage(response.usage),
        ]).jsonBytes
    }

    static func errorBody(_ error: GatewayError) -> [UInt8] {
        JSONValue.object([
            "error": [
                "message": .string(error.message), "type": .string(error.type),
                "param": error.parameter.map(JSONValue.string) ?? .null, "code": error.code.map(JSONValue.string) ?? .null,
            ]
        ]).jsonBytes
    }

    private func chunk(delta: [String: JSONValue], finishReason: String?) -> [UInt8] {
        let choice: JSONValue = ["index": 0, "delta": .object(delta), "logprobs": nil, "finish_reason": finishReason.map(JSONValue.string) ?? .null]
        return JSONValue.object([
            "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model), "choices": [choice],
        ]).jsonBytes
    }

    private static func usage(_ usage: Usage) -> JSONValue {
        [
            "prompt_tokens": .integer(Int64(usage.inputTokens)), "completion_tokens": .integer(Int64(usage.outputTokens)),
            "total_tokens": .integer(Int64(usage.inputTokens + usage.outputTokens)),
        ]
    }

    /// OpenAI's names for why an answer stopped.
    static func finishReason(_ reason: FinishReason) -> String {
        switch reason {
        case .length: "length"
        case .toolCalls: "tool_calls"
        case .contentFilter: "content_filter"
        default: "stop"
        }
    }
}
