internal import Foundation
internal import NIOCore
internal import RouterChat
internal import RouterSDK

/// Writes answers as Ollama's `/api/chat` and `/api/generate` do: one JSON object, or a stream of
/// newline-delimited objects with `"done": false` and a last one with `"done": true`, the
/// `done_reason` and the token counts (`prompt_eval_count`, `eval_count`); errors as
/// `{"error": "…"}`, in a stream as a line of their own.
struct OllamaWriter: AnswerWriter {
    /// Which endpoint answers: chat puts text in `message.content`, generate in `response`.
    enum Endpoint: Sendable {
        case chat, generate
    }

    static let streamContentType = "application/x-ndjson"

    let endpoint: Endpoint
    /// The model named in the answer: the one the caller asked for.
    let model: String
    /// When the answer began (`created_at`, UTC with fractional seconds as Ollama writes it).
    private let createdAt = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    /// The start of `total_duration`.
    private let started = ContinuousClock.now
    private var reason = FinishReason.stop
    private var usage: Usage?

    /// Creates a writer for one answer from `endpoint` to `model`.
    init(_ endpoint: Endpoint, model: String) {
        self.endpoint = endpoint
        self.model = model
    }

    func completion(_ response: ChatResponse) -> [UInt8] {
        var json = line(text: response.text, toolCalls: response.toolCalls)
        finish(&json, reason: response.finishReason, usage: response.usage)
        return JSONValue.object(json).jsonBytes
    }

    /// The answer Ollama gives a generate request with an empty prompt: the model is loaded,
    /// nothing generated.
    func loaded() -> [UInt8] {
        var json = line(text: "", toolCalls: [])
        json["done"] = true
        json["done_reason"] = "load"
        return JSONValue.object(json).jsonBytes
    }

    mutating func opening() -> ByteBuffer { ByteBuffer() }

    mutating func write(_ event: ChatStreamEvent) -> ByteBuffer {
        switch event {
        case .started: return ByteBuffer()
        case .text(let text): return .jsonLine(JSONValue.object(line(text: text, toolCalls: [])).jsonBytes)
        case .toolCall(let call): return .jsonLine(JSONValue.object(line(text: "", toolCalls: [call])).jsonBytes)
        case .finished(let reason, let usage, _):
            self.reason = reason
            self.usage = usage
            return ByteBuffer()
        }
    }

    mutating func closing() -> ByteBuffer {
        var json = line(text: "", toolCalls: [])
        finish(&json, reason: reason, usage: usage ?? Usage(inputTokens: 0, outputTokens: 0))
        return .jsonLine(JSONValue.object(json).jsonBytes)
    }

    mutating func failure(_ error: GatewayError) -> ByteBuffer { .jsonLine(Self.errorBody(error)) }

    static func errorBody(_ error: GatewayError) -> [UInt8] {
        JSONValue.object(["error": .string(error.message)]).jsonBytes
    }

    /// One object of the answer, not yet done.
    private func line(text: String, toolCalls: [ToolCall]) -> [String: JSONValue] {
        var json: [String: JSONValue] = [
            "model": .string(model), "created_at": .string(createdAt),
            "done": false,
        ]
        switch endpoint {
        case .generate: json["response"] = .string(text)
        case .chat:
            var message: [String: JSONValue] = ["role": "assistant", "content": .string(text)]
            if !toolCalls.isEmpty {
                message["tool_calls"] = .array(toolCalls.map { call in
                    ["function": ["name": .string(call.name), "arguments": RequestFields.argumentsObject(call.arguments)]]
                })
            }
            json["message"] = .object(message)
        }
        return json
    }

    /// Marks `json` as the last object: why it stopped, the token counts, and the time taken
    /// (`total_duration`, nanoseconds; the load and evaluation times are the upstream's own
    /// and not known here, so they are 0).
    private func finish(_ json: inout [String: JSONValue], reason: FinishReason, usage: Usage) {
        let elapsed = ContinuousClock.now - started
        json["done"] = true
        json["done_reason"] = reason == .length ? "length" : "stop"
        json["total_duration"] = .integer(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        json["load_duration"] = 0
        json["prompt_eval_count"] = .integer(Int64(usage.inputTokens))
        json["prompt_eval_duration"] = 0
        json["eval_count"] = .integer(Int64(usage.outputTokens))
        json["eval_duration"] = 0
    }
}
