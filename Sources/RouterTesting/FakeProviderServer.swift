import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
public import RouterSDK
public import RouterChat

/// A fake provider HTTP server on 127.0.0.1 that speaks the OpenAI chat completions, Anthropic
/// messages and Gemini `generateContent` formats (streaming included), with scripted behaviour
/// per key, so apps can test their RouterSDK use over real HTTP.
///
/// ```swift
/// let server = try await FakeProviderServer.start()
/// router.setProvider(server.provider(.openai))            // point "openai" at the fake
/// server.script(secret: "sk-a", [.rateLimited(retryAfterSeconds: 30), .reply(FakeReply(text: "Hi"))])
/// ...
/// await server.shutdown()
/// ```
///
/// Paths: `/openai/v1/chat/completions`, `/anthropic/v1/messages`,
/// `/gemini/v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`. The key
/// is read from wherever each provider's official client sends it (OpenAI `Authorization:
/// Bearer`; Anthropic `x-api-key` or `Authorization: Bearer`; Gemini `x-goog-api-key` or `?key=`).
/// Its answers parse under the official `openai`, `anthropic` and `google-genai` SDKs' response
/// schemas (checked by a test that runs those SDKs against it). A key without a script answers
/// ``defaultReply``. The newest requests are recorded (``requests``, at most
/// ``requestLogCapacity``) so tests can check encoding on the server side.
public final class FakeProviderServer: Sendable {
    /// One request the server received.
    public struct Request: Sendable, Hashable {
        /// `POST`, usually.
        public var method: String
        /// The path and query.
        public var path: String
        /// Header fields (names lowercased), in order.
        public var headers: [String: String]
        /// The body.
        public var body: [UInt8]
        /// The key it carried.
        public var secret: String

        /// The body as JSON.
        public var json: JSONValue? { JSONValue(parsing: body) }
    }

    /// The loopback port.
    public let port: Int
    private let shared: Shared
    private let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let accepting: Task<Void, Never>

    private init(port: Int, shared: Shared, server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>, accepting: Task<Void, Never>) {
        self.port = port
        self.shared = shared
        self.server = server
        self.accepting = accepting
    }

    /// Starts a server on loopback: on a free port (`port` 0, the default), or on `port` — so it
    /// can stand in for an upstream that a separately started server (a gateway, an app under
    /// test) was configured with.
    ///
    /// - Throws: the bind error when `port` is taken.
    public static func start(port requestedPort: Int = 0) async throws -> FakeProviderServer {
        let shared = Shared()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: requestedPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let accepting = Task {
            _ = try? await server.executeThenClose { connections in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in connections {
                            group.addTask { await shared.serve(connection) }
                        }
                    } catch {
                        group.cancelAll()
                    }
                }
            }
        }
        return FakeProviderServer(port: server.channel.localAddress?.port ?? 0, shared: shared, server: server, accepting: accepting)
    }

    /// Stops accepting and closes every connection.
    public func shutdown() async {
        try? await server.channel.close()
        accepting.cancel()
        await accepting.value
    }

    /// The base URL of one format's API on this server.
    public func baseURL(_ format: ProviderInfo.WireFormat) -> String {
        switch format {
        case .openAIChat: "http://127.0.0.1:\(port)/openai/v1"
        case .anthropicMessages: "http://127.0.0.1:\(port)/anthropic/v1"
        case .geminiGenerateContent: "http://127.0.0.1:\(port)/gemini/v1beta"
        }
    }

    /// `provider`'s catalog entry pointed at this server (pass to `LLMRouter.setProvider`).
    public func provider(_ provider: ProviderInfo) -> ProviderInfo {
        var info = provider
        info.baseURL = baseURL(provider.wireFormat)
        return info
    }

    /// Queues answers for requests carrying `secret`, in order; when they run out the key gets
    /// ``defaultReply``.
    public func script(secret: String, _ responses: [FakeProviderResponse]) {
        shared.state.withLock { $0.scripts[secret, default: []] += responses }
    }

    /// The answer for keys without a script.
    public var defaultReply: FakeReply {
        get { shared.state.withLock { $0.defaultReply } }
        set { shared.state.withLock { $0.defaultReply = newValue } }
    }

    /// The newest requests received (at most ``requestLogCapacity``), oldest first.
    public var requests: [Request] { shared.state.withLock { $0.requests } }

    /// How many requests the log keeps; older ones are dropped (``receivedRequests`` still counts them).
    public static let requestLogCapacity = 10_000

    /// Every request received since the start, including those dropped from the log.
    public var receivedRequests: Int { shared.state.withLock { $0.received } }

    /// Requests answered with ``FakeProviderResponse/hang`` whose client went away.
    public var abandonedRequests: Int { shared.state.withLock { $0.abandoned } }

    /// Suspends until the server has received at least `count` requests (no polling, no sleep).
    public func waitForRequests(_ count: Int) async {
        await shared.wait { $0.received >= count }
    }

    /// Suspends until at least `count` hanging requests were abandoned by their client.
    public func waitForAbandonedRequests(_ count: Int) async {
        await shared.wait { $0.abandoned >= count }
    }
}

/// The state connections share.
private final class Shared: Sendable {
    struct State {
        var scripts: [String: [FakeProviderResponse]] = [:]
        var requests: [FakeProviderServer.Request] = []
        var defaultReply = FakeReply(text: "Hello from the fake provider.")
        var abandoned = 0
        var received = 0
        var waiters: [(condition: @Sendable (State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let state = Locked(State())

    /// Resumes when `condition` holds for the state (checked now and after every change).
    func wait(until condition: @escaping @Sendable (State) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if condition(state) { return true }
                state.waiters.append((condition, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Changes the state and wakes the waiters whose condition now holds.
    func update<T>(_ body: (inout State) -> T) -> T {
        let (result, ready) = state.withLock { state -> (T, [CheckedContinuation<Void, Never>]) in
            let result = body(&state)
            var ready: [CheckedContinuation<Void, Never>] = []
            var waiting = state.waiters
            state.waiters = []
            let current = state
            waiting.removeAll { waiter in
                guard waiter.condition(current) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            state.waiters = waiting
            return (result, ready)
        }
        ready.forEach { $0.resume() }
        return result
    }

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var hanging = 0
            defer { if hanging > 0 { update { $0.abandoned += hanging } } }
            for try await part in inbound {
                switch part {
                case .head(let value):
                    head = value
                    body.removeAll()
                case .body(let buffer):
                    body += buffer.readableBytesView
                case .end:
                    guard let head else { continue }
                    guard try await respond(to: head, body: body, outbound) else {
                        hanging += 1
                        continue
                    }
                }
            }
        }
    }

    /// Answers one request; returns `false` when scripted to hang.
    private func respond(to head: HTTPRequestHead, body: [UInt8], _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
        var headers: [String: String] = [:]
        for header in head.headers { headers[header.name.lowercased()] = header.value }
        let path = head.uri
        guard let format = FakeWireFormat(path: path) else {
            try await write(status: 404, body: Array(#"{"error":"unknown path"}"#.utf8), to: outbound)
            return true
        }
        let secret = format.secret(path: path) { headers[$0] }
        let request = FakeProviderServer.Request(method: head.method.rawValue, path: path, headers: headers, body: body, secret: secret)
        let json = request.json
        let stream = json?["stream"] == .bool(true) || path.contains(":streamGenerateContent")
        let model = json?["model"]?.string ?? path.split(separator: "/").last.map { String($0.split(separator: ":").first ?? $0) } ?? "model"
        let response = update { state -> FakeProviderResponse in
            state.received += 1
            state.requests.append(request)
            // A bounded log, so a long load test does not grow the server without end.
            if state.requests.count > FakeProviderServer.requestLogCapacity { state.requests.removeFirst(state.requests.count / 2) }
            if var queue = state.scripts[secret], !queue.isEmpty {
                let next = queue.removeFirst()
                state.scripts[secret] = queue
                return next
            }
            return .reply(state.defaultReply)
        }
        let json200: [String: String] = ["content-type": "application/json"]
        let sse: [String: String] = ["content-type": "text/event-stream", "cache-control": "no-cache"]
        switch response {
        case .reply(let reply):
            if reply.latency > .zero { try await Task.sleep(for: reply.latency) }
            if stream {
                let includeUsage = json?["stream_options"]?["include_usage"] == .bool(true)
                try await writeStream(
                    format.events(reply, model: model, includeUsage: includeUsage), headers: sse.merging(reply.headers) { $1 }, interval: reply.eventInterval, to: outbound)
            } else {
                try await write(status: 200, headers: json200.merging(reply.headers) { $1 }, body: format.body(reply, model: model).jsonBytes, to: outbound)
            }
        case .rateLimited(let seconds, let extra):
            var fields = json200.merging(extra) { $1 }
            if let seconds { fields["retry-after"] = String(seconds) }
            try await write(status: 429, headers: fields, body: format.rateLimitedBody(retryAfterSeconds: seconds).jsonBytes, to: outbound)
        case .error(let status, let text, let extra):
            try await write(status: status, headers: json200.merging(extra) { $1 }, body: Array(text.utf8), to: outbound)
        case .malformedJSON:
            if stream {
                try await writeStream(["data: {this is not json\n\n"], headers: sse, to: outbound)
            } else {
                try await write(status: 200, headers: json200, body: Array(#"{"choices": [{"message": "#.utf8), to: outbound)
            }
        case .truncatedStream(let text):
            if stream {
                try await writeStream(format.events(FakeReply(text: text), model: model, complete: false), headers: sse, to: outbound)
            } else {
                let whole = format.body(FakeReply(text: text), model: model).jsonBytes
                try await write(status: 200, headers: json200, body: Array(whole.prefix(whole.count / 2)), to: outbound)
            }
        case .brokenStream(let text):
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(Array(sse)))))
            for block in format.events(FakeReply(text: text), model: model, complete: false) {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: block))))
            }
            // Give the written events time to reach the client before the connection drops
            // (closing at once may discard writes still queued in the channel). 1.5 s: 100 ms,
            // then 300 ms, were seen to be too short on a loaded 2-core CI machine, where the
            // client then saw no content and (rightly) failed over.
            try await Task.sleep(for: .milliseconds(1_500))
            throw CancellationError()  // closes the connection without ending the body
        case .huge(let bytes):
            var head = HTTPHeaders(Array(stream ? sse : json200))
            head.add(name: "content-length", value: String(bytes))
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: head)))
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1_024)
            var left = bytes
            while left > 0 {
                try await outbound.write(.body(.byteBuffer(chunk.getSlice(at: 0, length: min(left, chunk.readableBytes))!)))
                left -= min(left, chunk.readableBytes)
            }
            try await outbound.write(.end(nil))
        case .nonUTF8:
            let bytes: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28, 0x80]
            if stream {
                try await writeStream([], raw: Array("data: ".utf8) + bytes + Array("\n\n".utf8), headers: sse, to: outbound)
            } else {
                try await write(status: 200, headers: json200, body: bytes, to: outbound)
            }
        case .hang:
            return false
        }
        return true
    }

    private func write(status: Int, headers: [String: String] = [:], body: [UInt8], to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var fields = HTTPHeaders(Array(headers))
        fields.replaceOrAdd(name: "content-length", value: String(body.count))
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
        try await outbound.write(.end(nil))
    }

    /// Writes a chunked event stream, one write per event (or `raw` bytes instead of the events).
    private func writeStream(
        _ events: [String], raw: [UInt8]? = nil, headers: [String: String], interval: Duration = .zero,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(Array(headers)))))
        if let raw {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: raw))))
        } else {
            for (index, event) in events.enumerated() {
                if index > 0, interval > .zero { try await Task.sleep(for: interval) }
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: event))))
            }
        }
        try await outbound.write(.end(nil))
    }
}
