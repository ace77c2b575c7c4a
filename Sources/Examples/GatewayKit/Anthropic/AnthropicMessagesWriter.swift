internal import Foundation
internal import HTTPTypes
internal import NIOCore
internal import RouterChat
internal import RouterSDK

/// Writes answers as Anthropic's Messages API does: a `message` object, or its stream —
/// `message_start`, `ping`, then for each content block `content_block_start`,
/// `content_block_delta` (`text_delta`, `input_json_delta`) and `content_block_stop`, then
/// `message_delta` (stop reason and usage) and `message_stop` — and errors as
/// `{"type": "error", "error": {"type", "message"}}`.
struct AnthropicMessagesWriter: AnswerWriter {
    static let streamContentType = "text/event-stream"

    /// The message's id (`msg_…`).
    let id: String
    /// The model named in the answer: the one the caller asked for.
    let model: String
    /// The index of the next content block a stream opens.
    private var nextBlock = 0
    /// Whether a text block is open (text deltas go into it until a tool call or the end).
    private var textOpen = false
    private var finished = false

    /// Creates a writer for one answer to `model`.
    init(model: String) {
        id = "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        self.model = model
    }

    func completion(_ response: ChatResponse) -> [UInt8] {
        var content: [JSONValue] = []
        if !response.text.isEmpty { content.append(["type": "text", "text": .string(response.text)]) }
        for call in response.toolCalls { content.append(Self.toolUse(call)) }
        return JSONValue.object([
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": .array(content),
            "stop_reason": .string(Self.stopReason(response.finishReason)), "stop_sequence": nil, "usage": Self.usage(response.usage),
        ]).jsonBytes
    }

    mutating func opening() -> ByteBuffer {
        // The input tokens are not known until the provider's answer ends; message_delta carries them.
        let message: JSONValue = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
            "stop_reason": nil, "stop_sequence": nil, "usage": ["input_tokens": 0, "output_tokens": 0],
        ]
        var buffer = Self.event("message_start", ["type": "message_start", "message": message])
        buffer.writeImmutableBuffer(Self.event("ping", ["type": "ping"]))
        return buffer
    }

    mutating func write(_ event: ChatStreamEvent) -> ByteBuffer {
        var buffer = ByteBuffer()
        switch event {
        case .started: break
        case .text(let text):
            if !textOpen {
                buffer.writeImmutableBuffer(blockStart(["type": "text", "text": ""]))
                textOpen = true
            }
            buffer.writeImmutableBuffer(delta(["type": "text_delta", "text": .string(text)]))
        case .toolCall(let call):
            closeText(into: &buffer)
            buffer.writeImmutableBuffer(blockStart(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": [:]]))
            buffer.writeImmutableBuffer(delta(["type": "input_json_delta", "partial_json": .string(call.arguments)]))
            buffer.writeImmutableBuffer(blockStop())
        case .finished(let reason, let usage, _):
            closeText(into: &buffer)
            buffer.writeImmutableBuffer(Self.event("message_delta", [
                "type": "message_delta", "delta": ["stop_reason": .string(Self.stopReason(reason)), "stop_sequence": nil],
                "usage": Self.usage(usage),
            ]))
            finished = true
        }
        return buffer
    }

    mutating func closing() -> ByteBuffer {
        var buffer = ByteBuffer()
        if !finished { buffer.writeImmutableBuffer(write(.finished(.stop, usage: Usage(inputTokens: 0, outputTokens: 0), cost: .zero))) }
        buffer.writeImmutableBuffer(Self.event("message_stop", ["type": "message_stop"]))
        return buffer
    }

    /// Anthropic ends a failed stream with an `error` event.
    mutating func failure(_ error: GatewayError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeImmutableBuffer(.serverSentEvent(Self.errorBody(error), name: "error"))
        return buffer
    }

    static func errorBody(_ error: GatewayError) -> [UInt8] {
        JSONValue.object(["type": "error", "error": ["type": .string(errorType(error)), "message": .string(error.message)]]).jsonBytes
    }

    /// Anthropic's error types, by status as its API documents them.
    static func errorType(_ error: GatewayError) -> String {
        switch error.status.code {
        case 400: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503: "overloaded_error"
        case 504: "timeout_error"
        default: "api_error"
        }
    }

    // MARK: Stream pieces

    private mutating func blockStart(_ block: JSONValue) -> ByteBuffer {
        Self.event("content_block_start", ["type": "content_block_start", "index": .integer(Int64(nextBlock)), "content_block": block])
    }

    private func delta(_ delta: JSONValue) -> ByteBuffer {
        Self.event("content_block_delta", ["type": "content_block_delta", "index": .integer(Int64(nextBlock)), "delta": delta])
    }

    private mutating func blockStop() -> ByteBuffer {
        defer { nextBlock += 1 }
        return Self.event("content_block_stop", ["type": "content_block_stop", "index": .integer(Int64(nextBlock))])
    }

    private mutating func closeText(into buffer: inout ByteBuffer) {
        guard textOpen else { return }
        buffer.writeImmutableBuffer(blockStop())
        textOpen = false
    }

    private static func event(_ name: String, _ json: JSONValue) -> ByteBuffer {
        .serverSentEvent(json.jsonBytes, name: name)
    }

    private static func toolUse(_ call: ToolCall) -> JSONValue {
        ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": RequestFields.argumentsObject(call.arguments)]
    }

    private static func usage(_ usage: Usage) -> JSONValue {
        ["input_tokens": .integer(Int64(usage.inputTokens)), "output_tokens": .integer(Int64(usage.outputTokens))]
    }

    /// Anthropic's names for why an answer stopped.
    private static func stopReason(_ reason: FinishReason) -> String {
        switch reason {
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        default: "end_turn"
        }
    }
}
