internal import RouterSDK
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

    /// Header fields that carry credentials; their values never print.
    public static let credentialHeaders: Set<String> = ["authorization", "x-api-key", "x-goog-api-key", "api-key", "proxy-authorization"]

    /// The request with every credential header's value replaced by `<redacted>` (and a `key=`
    /// query parameter likewise): what logs, test doubles and descriptions may keep.
    public var redacted: TransportRequest {
        var copy = self
        copy.headers = headers.map { header in
            Self.credentialHeaders.contains(header.name.lowercased()) ? (header.name, "<redacted>") : header
        }
        copy.url = Self.redactingKeyParameter(url)
        return copy
    }

    private static func redactingKeyParameter(_ url: String) -> String {
        guard let query = url.firstIndex(of: "?") else { return url }
        let parameters = url[url.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
            parameter.lowercased().hasPrefix("key=") ? "key=<redacted>" : String(parameter)
        }
        return url[...query] + parameters.joined(separator: "&")
    }
}

extension TransportRequest: CustomStringConvertible, CustomDebugStringConvertible {
    /// Method, URL and header names with credentials redacted; never the secret.
    public var description: String {
        let shown = redacted
        return "\(shown.method) \(shown.url) [" + shown.headers.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "] \(body.count) bytes"
    }

    public var debugDescription: String { description }
}

/// An HTTP response whose body streams in chunks.
public struct TransportResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields with lowercased names (repeated fields joined with `, `).
    public var headers: [String: String]
    /// The body, chunk by chunk.
    public var body: AsyncThrowingStream<[UInt8], any Error> {
        get {
            switch storage {
            case .streaming(let stream): stream
            case .complete(let bytes): Self.stream(of: bytes)
            }
        }
        set { storage = .streaming(newValue) }
    }

    /// A body that streams, or one already complete (kept as bytes, so ``collect(limit:)``
    /// returns it without making a stream: the in-process and test path costs nothing extra).
    private enum Storage: Sendable {
        case streaming(AsyncThrowingStream<[UInt8], any Error>)
        case complete([UInt8])
    }

    private var storage: Storage

    /// Creates a response.
    public init(status: Int, headers: [String: String], body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.storage = .streaming(body)
    }

    /// A response with a complete body.
    public init(status: Int, headers: [String: String] = [:], body bytes: [UInt8]) {
        self.status = status
        self.headers = headers
        self.storage = .complete(bytes)
    }

    private static func stream(of bytes: [UInt8]) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            if !bytes.isEmpty { continuation.yield(bytes) }
            continuation.finish()
        }
    }

    /// Reads the whole body, refusing more than `limit` bytes.
    ///
    /// - Throws: ``RouterSDK/ProviderError`` of kind `responseTooLarge` past the limit.
    public func collect(limit: Int) async throws -> [UInt8] {
        if case .complete(let bytes) = storage {
            guard bytes.count <= limit else {
                throw ProviderError(.responseTooLarge, status: status, message: "the response passed the \(limit)-byte limit")
            }
            return bytes
        }
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
    ///
    /// Extensible: a struct of named constants (like ``RouterSDK/RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stable name, as logged, exported in metrics and stored.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The request timed out.
        public static let timeout = Kind(rawValue: "timeout")
        /// No connection could be made, or it broke.
        public static let connection = Kind(rawValue: "connection")
        /// The URL cannot be used.
        public static let invalidURL = Kind(rawValue: "invalidURL")

        public var description: String { rawValue }
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
