internal import RouterSDK
import Foundation

/// Google Gemini `generateContent` / `streamGenerateContent?alt=sse` (`x-goog-api-key`).
struct GeminiAdapter: ProviderAdapter {
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool, options: RequestOptions) throws(ProviderError) -> TransportRequest {
        var json = JSONWriter(capacity: 256 + TokenEstimator.textBytes(of: chat))
        json.beginObject()
        json.key("contents")
        json.beginArray()
        for message in chat.messages where message.role != .system { try Self.encode(message, into: &json) }
        json.endArray()
        if chat.system != nil || chat.messages.contains(where: { $0.role == .system }) {
            json.key("systemInstruction")
            json.beginObject()
            json.key("parts")
            json.beginArray()
            json.beginObject()
            json.key("text")
            json.beginString()
            var first = true
            for text in [chat.system].compactMap({ $0 }) + chat.messages.filter({ $0.role == .system }).map(\.text) {
                if !first { json.stringPart("\n\n") }
                first = false
                json.stringPart(text)
            }
            json.endString()
            json.endObject()
            json.endArray()
            json.endObject()
        }
        json.key("generationConfig")
        json.beginObject()
        json.key("maxOutputTokens")
        json.integer(maxTokens)
        if let temperature = chat.temperature {
            json.key("temperature")
            json.number(temperature)
        }
        if !chat.stop.isEmpty { WireParsing.writeStrings(chat.stop, key: "stopSequences", into: &json) }
        if chat.responseFormat == .json {
            json.key("responseMimeType")
            json.literal("application/json")
        }
        json.endObject()
        if !chat.tools.isEmpty {
            json.key("tools")
            json.beginArray()
            json.beginObject()
            json.key("functionDeclarations")
            json.beginArray()
            for tool in chat.tools { WireParsing.writeDeclaration(of: tool, schemaKey: "parameters", into: &json) }
            json.endArray()
            json.endObject()
            json.endArray()
        }
        json.endObject()
        let escaped = model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#:"))) ?? model
        let path = stream ? "/models/\(escaped):streamGenerateContent?alt=sse" : "/models/\(escaped):generateContent"
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let secret, !secret.isEmpty { headers.append(("x-goog-api-key", secret.plaintext)) }
        return TransportRequest(url: WireParsing.url(baseURL, path), headers: headers, body: json.bytes)
    }

    private static func encode(_ message: ChatMessage, into json: inout JSONWriter) throws(ProviderError) {
        json.beginObject()
        json.key("role")
        json.literal(message.role == .assistant ? "model" : "user")
        json.key("parts")
        json.beginArray()
        if message.role == .tool {
            // A function response must be an object: JSON object text is passed as is.
            json.beginObject()
            json.key("functionResponse")
            json.beginObject()
            json.key("name")
            json.string(message.toolName ?? "")
            json.key("response")
            let text = message.text
            if case .object? = JSONValue(parsing: Array(text.utf8)) {
                json.raw(text.utf8)
            } else {
                json.beginObject()
                json.key("content")
                json.string(text)
                json.endObject()
            }
            json.endObject()
            json.endObject()
        } else {
            for part in message.content {
                switch part {
                case .text(let text):
                    json.beginObject()
                    json.key("text")
                    json.string(text)
                    json.endObject()
                case .imageData(let data, let mediaType):
                    json.beginObject()
                    json.key("inlineData")
                    json.beginObject()
                    json.key("mimeType")
                    json.string(mediaType)
                    json.key("data")
                    json.string(WireParsing.base64(data))
                    json.endObject()
                    json.endObject()
                case .imageURL:
                    throw ProviderError(.badRequest, message: "Gemini takes images as inline data (ChatMessage.Part.imageData), not by URL")
                }
            }
            for call in message.toolCalls {
                json.beginObject()
                json.key("functionCall")
                json.beginObject()
                json.key("name")
                json.string(call.name)
                json.key("args")
                try WireParsing.writeArguments(call, into: &json)
                json.endObject()
                json.endObject()
            }
        }
        json.endArray()
        json.endObject()
    }

    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply {
        var candidate: Candidate?
        var sawCandidates = false
        var usage: (input: Int?, output: Int?)?
        var sawUsage = false
        var blockReason: String?
        var sawFeedback = false
        try WireParsing.read(body, "Gemini response") { json in
            try json.forEachMember { json, key in
                switch key {
                case "candidates" where !sawCandidates:
                    sawCandidates = true
                    candidate = try Self.firstCandidate(&json)
                case "usageMetadata" where !sawUsage:
                    sawUsage = true
                    usage = try Self.usage(&json)
                case "promptFeedback" where !sawFeedback:
                    sawFeedback = true
                    blockReason = try Self.blockReason(&json)
                default: try json.skipValue()
                }
            }
        }
        guard let candidate else {
            if let blockReason { throw ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: \(blockReason)") }
            throw ProviderError(.malformedResponse, message: "the Gemini response has no candidates")
        }
        guard let usage, let input = usage.input else {
            throw ProviderError(.malformedResponse, message: "the Gemini response has no usageMetadata")
        }
        var text = ""
        var calls: [ToolCall] = []
        for part in candidate.parts {
            if let fragment = part.text, !part.thought { text += fragment }
            if let name = part.functionName { calls.append(ToolCall(id: part.functionID ?? "call_\(calls.count)", name: name, arguments: part.arguments ?? "{}")) }
        }
        let reason = Self.finishReason(candidate.finishReason, hasToolCalls: !calls.isEmpty)
        return DecodedReply(text: text, toolCalls: calls, finishReason: reason, usage: Usage(inputTokens: input, outputTokens: usage.output ?? 0))
    }

    /// What the adapter reads of a candidate.
    struct Candidate {
        struct Part {
            var text: String?
            var thought = false
            var functionName: String?
            var functionID: String?
            var arguments: String?
        }

        var parts: [Part] = []
        var finishReason: String?
    }

    /// The first element of `candidates` (`nil` when there is none; one that is not an object
    /// is an empty candidate, as the tree path read it).
    static func firstCandidate(_ json: inout JSONReader) throws -> Candidate? {
        var candidate: Candidate?
        try json.forEachElement { json, position in
            guard position == 0 else { return try json.skipValue() }
            var found = Candidate()
            var seen = FirstSeen()
            try json.forEachMember { json, key in
                switch key {
                case "content" where seen.first(0):
                    var sawParts = false
                    try json.forEachMember { json, key in
                        guard key == "parts", !sawParts else { return try json.skipValue() }
                        sawParts = true
                        try json.forEachElement { json, _ in found.parts.append(try part(&json)) }
                    }
                case "finishReason" where seen.first(1):
                    found.finishReason = try json.string()
                default: try json.skipValue()
                }
            }
            candidate = found
        }
        return candidate
    }

    private static func part(_ json: inout JSONReader) throws -> Candidate.Part {
        var part = Candidate.Part()
        var seen = FirstSeen()
        try json.forEachMember { json, key in
            switch key {
            case "text" where seen.first(0):
                part.text = try json.string()
            case "thought" where seen.first(1):
                part.thought = try json.bool() == true
            case "functionCall" where seen.first(2):
                var seenCall = FirstSeen()
                try json.forEachMember { json, key in
                    switch key {
                    case "name" where seenCall.first(0):
                        part.functionName = try json.string()
                    case "id" where seenCall.first(1):
                        part.functionID = try json.string()
                    case "args" where seenCall.first(2):
                        part.arguments = String(decoding: try json.rawValue(), as: UTF8.self)
                    default: try json.skipValue()
                    }
                }
            default: try json.skipValue()
            }
        }
        return part
    }

    /// `promptFeedback.blockReason`.
    private static func blockReason(_ json: inout JSONReader) throws -> String? {
        var reason: String?
        var seen = false
        try json.forEachMember { json, key in
            guard key == "blockReason", !seen else { return try json.skipValue() }
            seen = true
            reason = try json.string()
        }
        return reason
    }

    /// Output includes thinking tokens (billed as output); `nil` when the value is not an object.
    static func usage(_ json: inout JSONReader) throws -> (input: Int?, output: Int?)? {
        var counts: (prompt: Int64?, candidates: Int64?, thoughts: Int64?) = (nil, nil, nil)
        var seen = FirstSeen()
        let isObject = try json.forEachMember { json, key in
            switch key {
            case "promptTokenCount" where seen.first(0):
                counts.prompt = try json.integer()
            case "candidatesTokenCount" where seen.first(1):
                counts.candidates = try json.integer()
            case "thoughtsTokenCount" where seen.first(2):
                counts.thoughts = try json.integer()
            default: try json.skipValue()
            }
        }
        guard isObject else { return nil }
        return (WireParsing.tokens(counts.prompt), WireParsing.tokens(counts.candidates, counts.thoughts) ?? 0)
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

        mutating func decode(_ event: RawServerSentEvent, into pieces: inout [StreamPiece]) throws(ProviderError) {
            var candidate: Candidate?
            var usage: (input: Int?, output: Int?)?
            var blockReason: String?
            var error: JSONValue?
            var seen = FirstSeen()
            try WireParsing.read(event.data, "Gemini stream event") { json in
                try json.forEachMember { json, key in
                    switch key {
                    case "candidates" where seen.first(0):
                        candidate = try GeminiAdapter.firstCandidate(&json)
                    case "usageMetadata" where seen.first(1):
                        usage = try GeminiAdapter.usage(&json)
                    case "promptFeedback" where seen.first(2):
                        blockReason = try GeminiAdapter.blockReason(&json)
                    case "error" where seen.first(3):
                        let value = try json.value()
                        if value != .null { error = value }
                    default: try json.skipValue()
                    }
                }
            }
            if let error {
                throw GeminiAdapter.classify(status: Int(error["code"]?.integer ?? 500), body: ["error": error], headers: [:])
            }
            if candidate == nil, let blockReason {
                throw ProviderError(.contentPolicy, status: 200, message: "Gemini blocked the prompt: \(blockReason)")
            }
            var sawCall = false
            for part in candidate?.parts ?? [] {
                if let text = part.text, !text.isEmpty, !part.thought { pieces.append(.text(text)) }
                if let name = part.functionName {
                    pieces.append(.toolCall(ToolCall(id: part.functionID ?? "call_\(callCount)", name: name, arguments: part.arguments ?? "{}")))
                    callCount += 1
                    sawCall = true
                }
            }
            if let usage { pieces.append(.usage(input: usage.input, output: usage.output)) }
            if let reason = candidate?.finishReason {
                pieces.append(.finish(GeminiAdapter.finishReason(reason, hasToolCalls: sawCall || callCount > 0)))
                pieces.append(.end)
            }
        }

        mutating func finish(into pieces: inout [StreamPiece]) {}
    }

    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError {
        Self.classify(status: status, body: JSONValue(parsing: body) ?? .null, headers: WireParsing.unforwarded(headers))
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
            var limited = ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
            // Per-model quotas (`…PerModel…` ids, a `model` quota dimension) limit that model only.
            limited.isModelScoped = quotaIDs.contains { $0.contains("PerModel") }
                || details.flatMap { $0["violations"]?.array ?? [] }.contains { $0["quotaDimensions"]?["model"] != nil }
            return limited
        case "UNAUTHENTICATED", "PERMISSION_DENIED": return ProviderError(.authInvalid, status: status, message: message)
        case "NOT_FOUND": return ProviderError(.modelNotFound, status: status, message: message)
        case "INVALID_ARGUMENT" where WireParsing.saysUnknownModel(message) && !lowered.contains("api key"):
            return ProviderError(.modelNotFound, status: status, message: message)
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
