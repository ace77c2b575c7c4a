internal import RouterSDK
import Foundation

/// Google Gemini `generateContent` / `streamGenerateContent?alt=sse` (`x-goog-api-key`).
struct GeminiAdapter: ProviderAdapter {
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool) throws(ProviderError) -> TransportRequest {
        var body: [String: JSONValue] = [
            "contents": .array(try chat.messages.filter { $0.role != .system }.map { message throws(ProviderError) in try Self.encode(message) })
        ]
        let system = [chat.system].compactMap { $0 } + chat.messages.filter { $0.role == .system }.map(\.text)
        if !system.isEmpty { body["systemInstruction"] = ["parts": [["text": .string(system.joined(separator: "\n\n"))]]] }
        var generation: [String: JSONValue] = ["maxOutputTokens": .integer(Int64(maxTokens))]
        if let temperature = chat.temperature { generation["temperature"] = .number(temperature) }
        if !chat.stop.isEmpty { generation["stopSequences"] = .array(chat.stop.map(JSONValue.string)) }
        if chat.responseFormat == .json { generation["responseMimeType"] = "application/json" }
        body["generationConfig"] = .object(generation)
        if !chat.tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(chat.tools.map { ["name": .string($0.name), "description": .string($0.description), "parameters": $0.parameters] })]]
        }
        let escaped = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#:"))) ?? model
        let path = stream ? "/models/\(escaped):streamGenerateContent?alt=sse" : "/models/\(escaped):generateContent"
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let secret, !secret.isEmpty { headers.append(("x-goog-api-key", secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, path), headers: headers, body: JSONValue.object(body).jsonBytes)
    }

    private static func encode(_ message: ChatMessage) throws(ProviderError) -> JSONValue {
        if message.role == .tool {
            // A function response must be an object: JSON object text is passed as is.
            let parsed = JSONValue(parsing: Array(message.text.utf8))
            let response: JSONValue = if case .object? = parsed { parsed! } else { ["content": .string(message.text)] }
            return ["role": "user", "parts": [["functionResponse": ["name": .string(message.toolName ?? ""), "response": response]]]]
        }
        var parts: [JSONValue] = try message.content.map { part throws(ProviderError) in
            switch part {
            case .text(let text): return ["text": .string(text)]
            case .imageData(let data, let mediaType): return ["inlineData": ["mimeType": .string(mediaType), "data": .string(WireParsing.base64(data))]]
            case .imageURL:
                throw ProviderError(.badRequest, message: "Gemini takes images as inline data (ChatMessage.Part.imageData), not by URL")
            }
        }
        for call in message.toolCalls {
            guard let arguments = JSONValue(parsing: Array(call.arguments.utf8)) else {
                throw ProviderError(.badRequest, message: "the arguments of tool call '\(call.id)' are not JSON")
            }
            parts.append(["functionCall": ["name": .string(call.name), "args": arguments]])
        }
        return ["role": .string(message.role == .assistant ? "model" : "user"), "parts": .array(parts)]
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        let json = try WireParsing.json(body, "Gemini response")
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
            if let call = Self.toolCall(part, index: calls.count) { calls.append(call) }
        }
        guard let usage = Self.usage(json["usageMetadata"]), let input = usage.input else {
            throw ProviderError(.malformedResponse, message: "the Gemini response has no usageMetadata")
        }
        let reason = Self.finishReason(candidate["finishReason"]?.string, hasToolCalls: !calls.isEmpty)
        return DecodedReply(text: text, toolCalls: calls, finishReason: reason, usage: Usage(inputTokens: input, outputTokens: usage.output ?? 0))
    }

    static func toolCall(_ part: JSONValue, index: Int) -> ToolCall? {
        guard let call = part["functionCall"], let name = call["name"]?.string else { return nil }
        return ToolCall(id: call["id"]?.string ?? "call_\(index)", name: name, arguments: (call["args"] ?? [:]).jsonText)
    }

    /// Output includes thinking tokens (billed as output).
    static func usage(_ metadata: JSONValue?) -> (input: Int?, output: Int?)? {
        guard let metadata, case .object = metadata else { return nil }
        let output = WireParsing.tokens(metadata["candidatesTokenCount"]?.integer, metadata["thoughtsTokenCount"]?.integer)
        return (WireParsing.tokens(metadata["promptTokenCount"]?.integer), output ?? 0)
    }

    static func finishReason(_ reason: String?, hasToolCalls: Bool) -> FinishReason {
        if hasToolCalls { return .toolCalls }
        switch reason {
        case "STOP": return .stop
        case "MAX_TOKENS": return .length
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII": return .contentFilter
        default: return .other
        }
    }

    func makeStreamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    /// Every event is a partial response; tool calls arrive whole. The stream has no terminal
    /// event: it is complete once a candidate carried a finish reason.
    struct StreamDecoder: ChatStreamDecoder {
        private var callCount = 0

        mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
            let json = try WireParsing.json(Array(event.data.utf8), "Gemini stream event")
            if let error = json["error"], !error.isNull {
                throw GeminiAdapter.classify(status: Int(error["code"]?.integer ?? 500), body: json, headers: [:])
            }
            var pieces: [StreamPiece] = []
            let candidate = json["candidates"]?[0]
            if candidate == nil, let reason = json["promptFeedback"]?["blockReason"]?.string {
                throw ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: \(reason)")
            }
            var sawCall = false
            for part in candidate?["content"]?["parts"]?.array ?? [] {
                if let text = part["text"]?.string, !text.isEmpty, part["thought"] != .bool(true) { pieces.append(.text(text)) }
                if let call = GeminiAdapter.toolCall(part, index: callCount) {
                    callCount += 1
                    sawCall = true
                    pieces.append(.toolCall(call))
                }
            }
            if let usage = GeminiAdapter.usage(json["usageMetadata"]) { pieces.append(.usage(input: usage.input, output: usage.output)) }
            if let reason = candidate?["finishReason"]?.string {
                pieces.append(.finish(GeminiAdapter.finishReason(reason, hasToolCalls: sawCall || callCount > 0)))
                pieces.append(.end)
            }
            return pieces
        }

        mutating func finish() -> [StreamPiece] { [] }
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
        Self.classify(status: status, body: JSONValue(parsing: body) ?? .null, headers: headers)
    }

    static func classify(status: Int, body: JSONValue, headers: [String: String]) -> ProviderError {
        let error = body["error"] ?? .null
        let message = error["message"]?.string ?? ""
        let lowered = message.lowercased()
        let details = error["details"]?.array ?? []
        let reasons = Set(details.compactMap { $0["reason"]?.string })
        let retryDelay = details.lazy.compactMap { $0["retryDelay"]?.string }.first.flatMap(WireParsing.goDuration)
        let retryAfter = WireParsing.retryAfter(headers) ?? retryDelay
        if reasons.contains("API_KEY_INVALID") || lowered.contains("api key not valid") {
            return ProviderError(.authInvalid, status: status, message: message)
        }
        switch error["status"]?.string {
        case "RESOURCE_EXHAUSTED":
            // Gemini says "exceeded your current quota … billing details" for per-minute limits
            // too; only a per-day quota violation means the key is out for the day.
            let quotaIDs = details.flatMap { $0["violations"]?.array ?? [] }.compactMap { $0["quotaId"]?.string }
            if quotaIDs.contains(where: { $0.contains("PerDay") }) {
                return ProviderError(.quotaExhausted, status: status, message: message, retryAfter: retryAfter)
            }
            return ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
        case "UNAUTHENTICATED", "PERMISSION_DENIED": return ProviderError(.authInvalid, status: status, message: message)
        case "NOT_FOUND": return ProviderError(.modelNotFound, status: status, message: message)
        case "UNAVAILABLE": return ProviderError(.overloaded, status: status, message: message, retryAfter: retryAfter)
        case "INTERNAL": return ProviderError(.serverError, status: status, message: message)
        case "DEADLINE_EXCEEDED": return ProviderError(.timeout, status: status, message: message)
        case "FAILED_PRECONDITION" where lowered.contains("billing"): return ProviderError(.quotaExhausted, status: status, message: message)
        case "INVALID_ARGUMENT" where lowered.contains("exceeds the maximum number of tokens") || lowered.contains("too long"):
            return ProviderError(.contextTooLong, status: status, message: message)
        default: return WireParsing.byStatus(status, message: message, retryAfter: retryAfter)
        }
    }

    /// Gemini sends no rate-limit headers; a 429's `retryDelay` is all there is.
    func rateLimits(from headers: [String: String]) -> ProviderRateLimits { ProviderRateLimits() }
}
