public import RouterChat
public import RouterSDK

/// Writes answers as OpenAI's chat completions API does: a `chat.completion` object, or a stream
/// of `chat.completion.chunk` server-sent events ending in `data: [DONE]`, and errors as
/// `{"error": {"message", "type", "param", "code"}}`.
public struct OpenAIChatCompletionWriter: Sendable {
    /// The completion's id (`chatcmpl-…`), the same on every chunk of a stream.
    public let id: String
    /// Seconds since the epoch (`created`).
    public let created: Int64
    /// The model named in the answer: the one the caller asked for.
    public let model: String

    /// Creates a writer for one answer.
    public init(id: String, created: Int64, model: String) {
        self.id = id
        self.created = created
        self.model = model
    }

    /// A whole `chat.completion`.
    public func completion(_ response: ChatResponse) -> [UInt8] {
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

    /// The first chunk of a stream: the assistant's role.
    public func roleChunk() -> [UInt8] {
        chunk(delta: ["role": "assistant", "content": ""], finishReason: nil)
    }

    /// The chunk for one stream event: text, a tool call (the `index`-th of the answer) or the
    /// finish reason; `nil` for events OpenAI does not send.
    public func chunk(for event: ChatStreamEvent, toolCallIndex: Int) -> [UInt8]? {
        switch event {
        case .started: return nil
        case .text(let text): return chunk(delta: ["content": .string(text)], finishReason: nil)
        case .toolCall(let call):
            let fragment: JSONValue = [
                "index": .integer(Int64(toolCallIndex)), "id": .string(call.id), "type": "function",
                "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
            ]
            return chunk(delta: ["tool_calls": [fragment]], finishReason: nil)
        case .finished(let reason, _, _): return chunk(delta: [:], finishReason: Self.finishReason(reason))
        }
    }

    /// The usage chunk a stream ends with when the caller asked (`choices` empty).
    public func usageChunk(_ usage: Usage) -> [UInt8] {
        JSONValue.object([
            "id": .string(id), "object": "chat.completion.chunk", "created": .integer(created), "model": .string(model),
            "choices": [], "usage": Self.usage(usage),
        ]).jsonBytes
    }

    /// An error body.
    public static func error(_ error: GatewayError) -> [UInt8] {
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
