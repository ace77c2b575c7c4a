/// Sends HTTP requests for a ``ChatClient``. The default is `HTTPClientTransport` (product
/// `RouterHTTPClient`, on AsyncHTTPClient); `RouterTesting` has a mock.
///
/// Contract: cancelling the calling task cancels the request, including while its body is being
/// read; ending iteration of ``TransportResponse/body`` early releases the connection.
public protocol Transport: Sendable {
    /// Sends `request` and returns once the status and headers arrived; the body streams.
    ///
    /// - Throws: ``TransportError`` (or the transport's own errors) when no response arrived.
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

/// An HTTP request as the adapters build it.
public struct TransportRequest: Sendable, Hashable {
    /// `POST` for every provider call.
    public var method: String
    /// The full URL.
    public var url: String
    /// Header fields, in order (names as the provider documents them).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]
    /// How long the whole call may take (`nil`: the transport's default).
    public var timeout: Duration?

    /// Creates a request.
    public init(method: String = "POST", url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (lhs: TransportRequest, rhs: TransportRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body && lhs.timeout == rhs.timeout
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(url)
        hasher.combine(body)
    }
}

/// An HTTP response whose body streams in chunks.
public struct TransportResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields with lowercased names (repeated fields joined with `, `).
    public var headers: [String: String]
    /// The body, chunk by chunk.
    public var body: AsyncThrowingStream<[UInt8], any Error>

    /// Creates a response.
    public init(status: Int, headers: [String: String], body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a complete body.
    public init(status: Int, headers: [String: String] = [:], body bytes: [UInt8]) {
        self.init(status: status, headers: headers, body: AsyncThrowingStream { continuation in
            if !bytes.isEmpty { continuation.yield(bytes) }
            continuation.finish()
        })
    }

    /// Reads the whole body, refusing more than `limit` bytes.
    ///
    /// - Throws: ``ProviderError`` of kind `responseTooLarge` past the limit.
    public func collect(limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= limit else {
                throw ProviderError(.responseTooLarge, status: status, message: "the response passed the \(limit)-byte limit")
            }
            bytes += chunk
        }
        return bytes
    }
}

/// Why a transport got no response.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Hashable {
        /// The request timed out.
        case timeout
        /// No connection could be made, or it broke.
        case connection
        /// The URL cannot be used.
        case invalidURL
    }

    /// What went wrong.
    public var kind: Kind
    /// Details (never a secret).
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
