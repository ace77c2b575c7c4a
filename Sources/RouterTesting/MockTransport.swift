internal import RouterSDK
public import RouterChat

/// A ``RouterSDK/Transport`` that answers in-process from a closure and records every request,
/// for unit tests of code that uses a ``RouterSDK/ChatClient`` (no sockets, no sleeping).
///
/// ```swift
/// let transport = MockTransport { request in
///     TransportResponse(status: 200, body: Array(#"{"choices":[…],"usage":{…}}"#.utf8))
/// }
/// ```
public final class MockTransport: Transport {
    private let respond: @Sendable (TransportRequest) async throws -> TransportResponse
    private let recorded = Locked<[TransportRequest]>([])
    private let limit: Int

    /// Creates a transport answering with `respond` that keeps the last `limit` requests
    /// (default: all of them; 0 keeps none, for benchmarks and long soaks).
    public init(keepingLast limit: Int = .max, _ respond: @escaping @Sendable (TransportRequest) async throws -> TransportResponse) {
        self.respond = respond
        self.limit = max(0, limit)
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        if limit > 0 {
            let redacted = request.redacted
            recorded.withLock { requests in
                if requests.count == limit { requests.removeFirst() }
                requests.append(redacted)
            }
        }
        return try await respond(request)
    }

    /// The requests sent so far (the last `limit` of them), oldest first, with credential
    /// headers (and a `key=` query parameter) redacted: a test double keeps no plaintext secret.
    /// The `respond` closure sees the request as sent, to check authentication.
    public var requests: [TransportRequest] { recorded.withLock { $0 } }
}
