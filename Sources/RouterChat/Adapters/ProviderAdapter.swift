internal import RouterSDK
import Foundation

/// Encodes ``ChatRequest``s into one provider wire format and decodes its answers and errors.
/// Adapters are stateless; a stream's state lives in the ``ChatStreamDecoder`` they make.
///
/// The hot path — request bodies, complete replies, stream events — is byte-level
/// (``JSONWriter``, ``JSONReader``): no ``JSONValue`` tree, unknown members skipped unread.
/// Error bodies, read once per failure, are parsed into a tree.
protocol ProviderAdapter: Sendable {
    /// The HTTP request for `chat` to `model` at `baseURL`.
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool, options: RequestOptions) throws(ProviderError) -> TransportRequest
    /// The reply in a complete (non-streaming) success body.
    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply
    /// A decoder for one streamed reply.
    func makeStreamDecoder() -> any ChatStreamDecoder
    /// The error a non-2xx answer means.
    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError
    /// What the provider's rate-limit headers say is left.
    func rateLimits(from headers: [String: String]) -> ProviderRateLimits
}

/// What the catalog says about a model that changes how its request is written.
struct RequestOptions: Sendable, Hashable {
    /// OpenAI reasoning models (o-series, gpt-5) refuse `max_tokens` and take
    /// `max_completion_tokens` (``RouterSDK/ModelInfo/usesMaxCompletionTokens``).
    var maxCompletionTokens = false
}

extension ProviderAdapter {
    /// A request with default options (tests and callers without catalog information).
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool) throws(ProviderError) -> TransportRequest {
        try makeRequest(chat, model: model, baseURL: baseURL, secret: secret, maxTokens: maxTokens, stream: stream, options: RequestOptions())
    }

    /// The pieces a whole (non-streamed) reply amounts to, for a stream request a server
    /// answered with one complete JSON body instead of events.
    func pieces(ofReply body: [UInt8]) throws(ProviderError) -> [StreamPiece] {
        let reply = try decodeReply(body)
        var pieces: [StreamPiece] = []
        if !reply.text.isEmpty { pieces.append(.text(reply.text)) }
        pieces += reply.toolCalls.map(StreamPiece.toolCall)
        pieces.append(.finish(reply.finishReason))
        pieces.append(.usage(input: reply.usage.inputTokens, output: reply.usage.outputTokens))
        pieces.append(.end)
        return pieces
    }
}

/// A decoded reply.
struct DecodedReply: Sendable, Hashable {
    var text: String
    var toolCalls: [ToolCall]
    var finishReason: FinishReason
    /// The usage as reported; ``Plausible`` replaces impossible counts before it is charged.
    var usage: Usage
}

/// What one streamed event contributes.
enum StreamPiece: Sendable, Hashable {
    case text(String)
    case toolCall(ToolCall)
    case finish(FinishReason)
    /// Usage so far; later values replace earlier ones field by field (`nil`: not reported).
    case usage(input: Int?, output: Int?)
    /// The stream's terminal event arrived (`[DONE]`, `message_stop`); nothing may follow.
    case end
}

/// Turns one stream's server-sent events into pieces, keeping partial tool calls between events.
protocol ChatStreamDecoder: Sendable {
    /// Appends the pieces one event contributes to `pieces`.
    mutating func decode(_ event: RawServerSentEvent, into pieces: inout [StreamPiece]) throws(ProviderError)
    /// Appends pieces held back until the stream ends (tool calls still being assembled).
    mutating func finish(into pieces: inout [StreamPiece])
}

extension ChatStreamDecoder {
    /// The pieces of one event (tests and the public parser's events).
    mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece] {
        var pieces: [StreamPiece] = []
        let name = event.event.map { Array($0.utf8) }
        let data = Array(event.data.utf8)
        try data.withUnsafeBufferPointer { data throws(ProviderError) in
            if let name {
                try name.withUnsafeBufferPointer { name throws(ProviderError) in try decode(RawServerSentEvent(name: name, data: data), into: &pieces) }
            } else {
                try decode(RawServerSentEvent(name: nil, data: data), into: &pieces)
            }
        }
        return pieces
    }

    /// The pieces held back until the end.
    mutating func finish() -> [StreamPiece] {
        var pieces: [StreamPiece] = []
        finish(into: &pieces)
        return pieces
    }
}

/// The usage a call is charged: what the provider reported, with impossible counts treated as
/// missing and replaced by the estimate. A request always has input, so a reported 0 input
/// tokens is impossible; 0 output tokens after text or tool calls arrived is too (seen from
/// Gemini-compatible servers reporting `usageMetadata` of all zeros), and charging it would
/// settle the call at cost 0.
enum Plausible {
    static func usage(input reportedInput: Int?, output reportedOutput: Int?, estimatedInput: Int, text: String, toolCalls: [ToolCall] = []) -> Usage {
        let input = reportedInput.flatMap { $0 > 0 ? $0 : nil } ?? estimatedInput
        let produced = !text.isEmpty || !toolCalls.isEmpty
        let output: Int
        if let reportedOutput, reportedOutput > 0 || !produced {
            output = reportedOutput
        } else {
            output = TokenEstimator.tokens(in: text)
                + toolCalls.reduce(0) { $0 + TokenEstimator.tokens(in: $1.name) + TokenEstimator.tokens(in: $1.arguments) }
        }
        return Usage(inputTokens: input, outputTokens: output)
    }
}

/// Parsing helpers the adapters share.
enum WireParsing {
    /// A token count a provider reported as the sum of `parts` (`nil` when the first is absent),
    /// clamped to `0...Usage.maximumTokens`: a negative, huge or overflowing report never traps
    /// and never reaches the router as an impossible count.
    static func tokens(_ first: Int64?, _ rest: Int64?...) -> Int? {
        guard let first else { return nil }
        var total = max(first, 0)
        for part in rest { total = total.addingSaturating(max(part ?? 0, 0)) }
        return Int(min(total, Int64(Usage.maximumTokens)))
    }

    /// Reads `body` as one JSON document with `decode`, turning a syntax error into
    /// `malformedResponse` (as a body that is not UTF-8 or not JSON always was).
    @discardableResult
    static func read<T>(_ body: [UInt8], _ what: String, _ decode: (inout JSONReader) throws -> T) throws(ProviderError) -> T {
        do {
            return try body.withUnsafeBufferPointer { buffer in try JSONReader.read(buffer, decode) }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(.malformedResponse, message: "the \(what) is not valid JSON (\(error))")
        }
    }

    /// ``read(_:_:_:)`` over bytes in place (a stream event's data).
    @discardableResult
    static func read<T>(_ body: UnsafeBufferPointer<UInt8>, _ what: String, _ decode: (inout JSONReader) throws -> T) throws(ProviderError) -> T {
        do {
            return try JSONReader.read(body, decode)
        } catch let error as ProviderError {
            throw error
        } catch {
            throw ProviderError(.malformedResponse, message: "the \(what) is not valid JSON (\(error))")
        }
    }

    /// Header prefixes under which proxies forward a provider's own headers: LiteLLM sends
    /// `llm_provider-retry-after`, `llm_provider-x-ratelimit-reset-requests`, …
    static let forwardingPrefixes = ["llm_provider-"]

    /// `headers` with every forwarded header also under its own name (a header sent directly
    /// wins). Returns `headers` itself, without copying, when nothing was forwarded.
    static func unforwarded(_ headers: [String: String]) -> [String: String] {
        guard headers.keys.contains(where: { name in forwardingPrefixes.contains { name.hasPrefix($0) } }) else { return headers }
        var merged = headers
        for (name, value) in headers {
            for prefix in forwardingPrefixes where name.hasPrefix(prefix) {
                let original = String(name.dropFirst(prefix.count))
                if headers[original] == nil { merged[original] = value }
            }
        }
        return merged
    }

    /// Whether an error message says the model is unknown: proxies and compatible servers answer
    /// an unknown model with a 400 ("Invalid model name passed in model=…"), OpenAI with
    /// `model_not_found` ("The model `x` does not exist…"), Ollama with "model \"x\" not found".
    static func saysUnknownModel(_ message: String) -> Bool {
        let lowered = message.lowercased()
        guard lowered.contains("model") else { return false }
        return lowered.contains("invalid model") || lowered.contains("model_not_found") || lowered.contains("does not exist")
            || lowered.contains("not found") || lowered.contains("unknown model") || lowered.contains("no such model")
    }

    /// A `retry-after` header: seconds, or an HTTP date (relative to `now`); also when a proxy
    /// forwarded it (``forwardingPrefixes``).
    static func retryAfter(_ headers: [String: String]) -> Duration? {
        let headers = unforwarded(headers)
        if let milliseconds = headers["retry-after-ms"].flatMap(Double.init), milliseconds >= 0 {
            return .milliseconds(Int64(milliseconds.rounded(.up)))
        }
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64((seconds * 1_000).rounded(.up))) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(max(0, Int64((date.timeIntervalSinceNow * 1_000).rounded(.up))))
    }

    /// A Go-style duration as OpenAI and Gemini write them: `1s`, `6m0s`, `20ms`, `1.5s`, `2h3m`.
    static func goDuration(_ text: String) -> Duration? {
        var total = 0.0
        var number = ""
        var index = text.startIndex
        var sawUnit = false
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber || character == "." {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            var unit = String(character)
            index = text.index(after: index)
            if unit == "m", index < text.endIndex, text[index] == "s" {
                unit = "ms"
                index = text.index(after: index)
            }
            guard let value = Double(number) else { return nil }
            switch unit {
            case "h": total += value * 3_600
            case "m": total += value * 60
            case "s": total += value
            case "ms": total += value / 1_000
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty else { return nil }
        return .milliseconds(Int64((total * 1_000).rounded(.up)))
    }

    /// An RFC 3339 time (Anthropic's resets) as a duration from now.
    static func untilISODate(_ text: String) -> Duration? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var date = formatter.date(from: text)
        if date == nil {
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            date = formatter.date(from: text)
        }
        guard let date else { return nil }
        return .milliseconds(max(0, Int64((date.timeIntervalSinceNow * 1_000).rounded(.up))))
    }

    /// The text of a provider's error message, scrubbed of the secret, then cut to
    /// ``RouterSDK/ProviderError/maximumMessageLength``. Scrubbing comes first, so a cut can never leave a
    /// prefix of the secret behind; a message that arrived already cut (the body limit) loses a
    /// trailing start of the secret too.
    static func scrub(_ message: String, secret: Secret?) -> String {
        guard let secret, !secret.isEmpty else { return ProviderError.truncated(message) }
        let scrubbed = secret.withPlaintext { plain -> String in
            var text = message.replacingOccurrences(of: plain, with: "***")
            let longest = min(plain.count - 1, text.count)
            if longest >= 4 {
                for length in stride(from: longest, through: 4, by: -1) where text.hasSuffix(plain.prefix(length)) {
                    text = String(text.dropLast(length)) + "***"
                    break
                }
            }
            return text
        }
        return ProviderError.truncated(scrubbed)
    }

    /// A status-only classification shared by every provider for statuses its body did not explain.
    static func byStatus(_ status: Int, message: String, retryAfter: Duration?) -> ProviderError {
        switch status {
        case 429: ProviderError(.rateLimited, status: status, message: message, retryAfter: retryAfter)
        case 401, 403: ProviderError(.authInvalid, status: status, message: message)
        case 402: ProviderError(.quotaExhausted, status: status, message: message)
        case 404: ProviderError(.modelNotFound, status: status, message: message)
        case 408, 504: ProviderError(.timeout, status: status, message: message)
        case 413: ProviderError(.contextTooLong, status: status, message: message)
        case 503, 529: ProviderError(.overloaded, status: status, message: message, retryAfter: retryAfter)
        case 500...599: ProviderError(.serverError, status: status, message: message)
        default: ProviderError(.badRequest, status: status, message: message)
        }
    }

    /// Writes a tool call's arguments as the JSON value they are (not as a string), after
    /// checking they are JSON.
    ///
    /// - Throws: `badRequest` when they are not.
    static func writeArguments(_ call: ToolCall, into json: inout JSONWriter) throws(ProviderError) {
        var arguments = call.arguments
        let valid = arguments.withUTF8 { bytes in
            (try? JSONReader.read(bytes) { reader in try reader.skipValue() }) != nil
        }
        guard valid else { throw ProviderError(.badRequest, message: "the arguments of tool call '\(call.id)' are not JSON") }
        json.raw(arguments.utf8)
    }

    /// Writes a tool as the function declaration every format shares: its name, description
    /// and parameter schema under `schemaKey` (`parameters`, Anthropic's `input_schema`).
    static func writeDeclaration(of tool: ChatTool, schemaKey: StaticString, into json: inout JSONWriter) {
        json.beginObject()
        json.key("name")
        json.string(tool.name)
        json.key("description")
        json.string(tool.description)
        json.key(schemaKey)
        json.value(tool.parameters)
        json.endObject()
    }

    /// Writes `strings` as an array under `key` (stop sequences).
    static func writeStrings(_ strings: [String], key: StaticString, into json: inout JSONWriter) {
        json.key(key)
        json.beginArray()
        for string in strings { json.string(string) }
        json.endArray()
    }

    /// Base64 of image bytes.
    static func base64(_ data: Data) -> String { data.base64EncodedString() }

    /// A URL under `base` (a trailing slash on either side is fine).
    static func url(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }
}
