internal import RouterSDK
public import RouterChat

/// What the ``FakeProviderServer`` answers to one request, in the wire format the request used.
///
/// Frozen in 1.x: new failure scripts are added in a major version of the test kit.
public enum FakeProviderResponse: Sendable, Hashable {
    /// A successful answer (streamed if the request asked for a stream).
    case reply(FakeReply)
    /// 429 in the provider's format, with `retry-after` when given.
    case rateLimited(retryAfterSeconds: Int?, headers: [String: String] = [:])
    /// Any status with a raw body (an error in whatever shape the test needs).
    case error(status: Int, body: String, headers: [String: String] = [:])
    /// 200 with a body that is not JSON (for streams: an event whose data is not JSON).
    case malformedJSON
    /// A stream that sends `text` and then ends cleanly but without its final event (for a
    /// non-streaming request: half a JSON body).
    case truncatedStream(text: String)
    /// A stream that sends `text` and then drops the connection mid-body.
    case brokenStream(text: String)
    /// 200 with a body of `bytes` bytes.
    case huge(bytes: Int)
    /// 200 with bytes that are not UTF-8.
    case nonUTF8
    /// Never answers; counted in ``FakeProviderServer/abandonedRequests`` once the client goes away.
    case hang
}

/// A successful answer of the ``FakeProviderServer``.
public struct FakeReply: Sendable, Hashable {
    /// The reply text (streamed in several events).
    public var text: String
    /// Tool calls (streamed in fragments where the format does that).
    public var toolCalls: [ToolCall]
    /// Reported input tokens.
    public var inputTokens: Int
    /// Reported output tokens.
    public var outputTokens: Int
    /// Why it stopped.
    public var finishReason: FinishReason
    /// How long the server waits before answering.
    public var latency: Duration
    /// How long a streamed answer waits between its events (a slow model, streams kept in
    /// flight).
    public var eventInterval: Duration
    /// Extra response headers (rate-limit headers, for instance).
    public var headers: [String: String]

    /// Creates a reply.
    public init(
        text: String, toolCalls: [ToolCall] = [], inputTokens: Int = 12, outputTokens: Int = 7, finishReason: FinishReason? = nil,
        latency: Duration = .zero, eventInterval: Duration = .zero, headers: [String: String] = [:]
    ) {
        self.eventInterval = eventInterval
        self.text = text
        self.toolCalls = toolCalls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.finishReason = finishReason ?? (toolCalls.isEmpty ? .stop : .toolCalls)
        self.latency = latency
        self.headers = headers
    }

    /// Input plus output tokens as the wire formats report a total; saturates, so a test can
    /// report `Int.max` of each.
    var totalTokens: Int64 {
        let (sum, overflow) = Int64(inputTokens).addingReportingOverflow(Int64(outputTokens))
        return overflow ? .max : sum
    }
}
