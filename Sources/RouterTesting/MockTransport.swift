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

    /// Creates a transport answering with `respond`.
    public init(_ respond: @escaping @Sendable (TransportRequest) async throws -> TransportResponse) {
        self.respond = respond
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        recorded.withLock { $0.append(request.redacted) }
        return try await respond(request)
    }

    /// Every request sent so far, oldest first, with credential headers (and a `key=` query
    /// parameter) redacted: a test double keeps no plaintext secret. The `respond` closure sees
    /// the request as sent, to check authentication.
    public var requests: [TransportRequest] { recorded.withLock { $0 } }
}
