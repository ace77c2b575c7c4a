public import AsyncHTTPClient
import NIOCore
import NIOHTTP1
internal import RouterSDK
public import RouterChat

/// The default ``RouterSDK/Transport``: AsyncHTTPClient with its connection pooling, TLS and
/// timeouts.
///
/// - One shared `HTTPClient` (``shared`` uses `HTTPClient.shared`); pass your own to tune the
///   pool or proxies. The transport never shuts down a client it did not create.
/// - Each request's ``RouterSDK/TransportRequest/timeout`` (else ``defaultTimeout``) bounds the
///   whole call, body included.
/// - Cancelling the calling task, or ending iteration of the response body early, cancels the
///   HTTP request and closes its connection.
public struct HTTPClientTransport: Transport {
    /// A transport on `HTTPClient.shared`.
    public static let shared = HTTPClientTransport()

    private let client: HTTPClient
    /// The timeout of requests that set none.
    public let defaultTimeout: Duration

    /// Creates a transport on `client`.
    public init(client: HTTPClient = .shared, defaultTimeout: Duration = .seconds(120)) {
        self.client = client
        self.defaultTimeout = defaultTimeout
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        var http = HTTPClientRequest(url: request.url)
        http.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { http.headers.add(name: header.name, value: header.value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let timeout = request.timeout ?? defaultTimeout
        let response: HTTPClientResponse
        do {
            response = try await client.execute(http, timeout: .nanoseconds(Self.nanoseconds(timeout)))
        } catch {
            throw Self.transportError(error)
        }
        var headers: [String: String] = [:]
        for header in response.headers {
            let name = header.name.lowercased()
            headers[name] = headers[name].map { $0 + ", " + header.value } ?? header.value
        }
        let body = response.body
        let stream = AsyncThrowingStream<[UInt8], any Error> { continuation in
            let reader = Task {
                do {
                    for try await buffer in body { continuation.yield(Array(buffer.readableBytesView)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.transportError(error))
                }
            }
            // Ending iteration early cancels the reader, which cancels the request.
            continuation.onTermination = { _ in reader.cancel() }
        }
        return TransportResponse(status: Int(response.status.code), headers: headers, body: stream)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Maps AsyncHTTPClient's errors to ``RouterSDK/TransportError`` (cancellation stays as it is).
    static func transportError(_ error: any Error) -> any Error {
        if error is CancellationError { return error }
        guard let error = error as? HTTPClientError else {
            return TransportError(.connection, String(describing: error))
        }
        switch error {
        case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .socksHandshakeTimeout, .tlsHandshakeTimeout:
            return TransportError(.timeout, String(describing: error))
        case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
            return TransportError(.invalidURL, String(describing: error))
        case .cancelled:
            return CancellationError()
        default:
            return TransportError(.connection, String(describing: error))
        }
    }
}
