internal import RouterSDK
import Foundation

/// Encodes ``ChatRequest``s into one provider wire format and decodes its answers and errors.
/// Adapters are stateless; a stream's state lives in the ``ChatStreamDecoder`` they make.
protocol ProviderAdapter: Sendable {
    /// The HTTP request for `chat` to `model` at `baseURL`.
    func makeRequest(_ chat: ChatRequest, model: String, baseURL: String, secret: Secret?, maxTokens: Int, stream: Bool) throws(ProviderError) -> TransportRequest
    /// The reply in a complete (non-streaming) success body.
    func decodeReply(_ body: [UInt8]) throws(ProviderError) -> DecodedReply
    /// A decoder for one streamed reply.
    func makeStreamDecoder() -> any ChatStreamDecoder
    /// The error a non-2xx answer means.
    func classify(status: Int, headers: [String: String], body: [UInt8]) -> ProviderError
    /// What the provider's rate-limit headers say is left.
    func rateLimits(from headers: [String: String]) -> ProviderRateLimits
}

/// A decoded reply.
struct DecodedReply: Sendable, Hashable {
    var text: String
    var toolCalls: [ToolCall]
    var finishReason: FinishReason
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
    /// The pieces one event contributes.
    mutating func decode(_ event: ServerSentEvent) throws(ProviderError) -> [StreamPiece]
    /// Pieces held back until the stream ends (tool calls still being assembled).
    mutating func finish() -> [StreamPiece]
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

    /// The JSON of a body, or a `malformedResponse` error.
    static func json(_ body: [UInt8], _ what: String) throws(ProviderError) -> JSONValue {
        guard String(validating: body, as: UTF8.self) != nil else {
            throw ProviderError(.malformedResponse, message: "the \(what) is not UTF-8")
        }
        guard let value = JSONValue(parsing: body) else {
            throw ProviderError(.malformedResponse, message: "the \(what) is not JSON")
        }
        return value
    }

    /// A `retry-after` header: seconds, or an HTTP date (relative to `now`).
    static func retryAfter(_ headers: [String: String]) -> Duration? {
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

    /// Base64 of image bytes.
    static func base64(_ data: Data) -> String { data.base64EncodedString() }

    /// A URL under `base` (a trailing slash on either side is fine).
    static func url(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }
}
