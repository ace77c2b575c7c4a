internal import HTTPTypes
public import Hummingbird
public import RouterChat
public import RouterSDK
internal import Foundation
internal import Logging
internal import NIOCore

/// The gateway's HTTP API over one ``RouterSDK/LLMRouter`` and its ``RouterChat/ChatClient``:
/// OpenAI's chat completions (streamed and not) and model list, and health probes.
///
/// Every answer is in the caller's format whatever provider serves it; errors too, with the
/// status a client expects (400 bad request, 404 unknown model, 413 body too large, 429 with
/// `retry-after` when every key is cooling down or a budget is spent, 502/504 upstream).
public struct Gateway: Sendable {
    /// The gateway's version, reported by `/health`.
    public static let version = "0.1.0"

    /// The router whose keys, limits and budgets apply.
    public let router: LLMRouter
    /// How requests reach the providers.
    public let client: ChatClient
    /// Settings.
    public let configuration: GatewayConfiguration
    private let started: ContinuousClock.Instant

    /// Creates the gateway's API.
    public init(router: LLMRouter, client: ChatClient, configuration: GatewayConfiguration) {
        self.router = router
        self.client = client
        self.configuration = configuration
        started = .now
    }

    /// The routes, for an `Application` (or a HummingbirdTesting client).
    public func routes() -> Router<BasicRequestContext> {
        let routes = Router()
        routes.get("/health") { _, _ in try await health() }
        routes.get("/health/live") { _, _ in Self.json(.ok, ["status": "ok"]) }
        routes.get("/health/ready") { _, _ in await readiness() }
        routes.get("/v1/models") { _, _ in await models() }
        routes.post("/v1/chat/completions") { request, context in await chatCompletions(request, context) }
        return routes
    }

    // MARK: OpenAI

    private func chatCompletions(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let parsed: OpenAIChatCompletionRequest
        do {
            parsed = try OpenAIChatCompletionRequest(body: try await body(of: request).readableBytesView)
        } catch let error as GatewayError {
            return Self.openAIError(error)
        } catch {
            return Self.openAIError(.invalidRequest("the request body could not be read"))
        }
        let writer = OpenAIChatCompletionWriter(
            id: "chatcmpl-\(UUID().uuidString.lowercased())", created: Int64(Date().timeIntervalSince1970), model: parsed.chat.model)
        guard parsed.stream else {
            do {
                let response = try await client.chat(parsed.chat, logger: context.logger)
                return Self.response(.ok, contentType: "application/json", writer.completion(response))
            } catch {
                return Self.openAIError(await gatewayError(error))
            }
        }
        return await stream(parsed, writer, context)
    }

    /// A streamed answer. The status is decided by the first content: until then a failure is
    /// an error response with its status; after it, an error chunk ends the stream.
    private func stream(_ parsed: OpenAIChatCompletionRequest, _ writer: OpenAIChatCompletionWriter, _ context: BasicRequestContext) async -> Response {
        let events = client.stream(parsed.chat, logger: context.logger)
        let first: ChatStreamEvent?
        do {
            first = try await Self.firstContent(of: events)
        } catch {
            return Self.openAIError(await gatewayError(error))
        }
        let includeUsage = parsed.includeUsage
        let body = ResponseBody { output in
            try await output.write(Self.event(writer.roleChunk()))
            var toolCalls = 0
            var usage: Usage?
            func send(_ event: ChatStreamEvent) async throws {
                if let chunk = writer.chunk(for: event, toolCallIndex: toolCalls) { try await output.write(Self.event(chunk)) }
                if case .toolCall = event { toolCalls += 1 }
                if case .finished(_, let used, _) = event { usage = used }
            }
            do {
                if let first { try await send(first) }
                // The same stream, consumed on from where `firstContent` stopped.
                for try await event in events { try await send(event) }
                if includeUsage, let usage { try await output.write(Self.event(writer.usageChunk(usage))) }
                try await output.write(ByteBuffer(string: "data: [DONE]\n\n"))
            } catch let error as RouterError {
                let answer = GatewayError.from(error, retryAt: nil, now: router.clock.now())
                try await output.write(Self.event(OpenAIChatCompletionWriter.error(answer)))
            }
            try await output.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Reads `events` up to the first event a client sees (text, a tool call, the finish).
    private static func firstContent(of events: AsyncThrowingStream<ChatStreamEvent, any Error>) async throws -> ChatStreamEvent? {
        for try await event in events {
            if case .started = event { continue }
            return event
        }
        return nil
    }

    private func models() async -> Response {
        let catalog = await router.catalog
        var served: Set<ModelRef> = []
        for id in await router.keyIDs {
            guard let settings = try? await router.settings(of: id) else { continue }
            for model in catalog.models(of: settings.provider) where settings.models.isEmpty || settings.models.contains(model.ref.name) {
                served.insert(model.ref)
            }
        }
        let data: [JSONValue] = served.sorted().map { ref in
            ["id": .string(ref.name), "object": "model", "created": 0, "owned_by": .string(ref.provider.rawValue)]
        }
        return Self.response(.ok, contentType: "application/json", JSONValue.object(["object": "list", "data": .array(data)]).jsonBytes)
    }

    // MARK: Health

    private func health() async throws -> Response {
        let store = router.storeHealth
        let uptime = ContinuousClock.now - started
        return Self.json(.ok, [
            "status": .string(store.isAvailable ? "ok" : "degraded"), "version": .string(Self.version),
            "uptime_seconds": .integer(uptime.components.seconds),
            "store": ["available": .bool(store.isAvailable), "buffered_records": .integer(Int64(store.bufferedRecords))],
        ])
    }

    /// 200 when the store is reachable and some key is available; 503 with the reasons otherwise.
    private func readiness() async -> Response {
        var problems: [JSONValue] = []
        if !router.storeHealth.isAvailable { problems.append("the state store is unreachable") }
        var anyAvailable = false
        for id in await router.keyIDs {
            if (try? await router.state(of: id)) == .available {
                anyAvailable = true
                break
            }
        }
        if !anyAvailable { problems.append("no provider key is available") }
        return Self.json(problems.isEmpty ? .ok : .serviceUnavailable, ["status": .string(problems.isEmpty ? "ready" : "not ready"), "problems": .array(problems)])
    }

    // MARK: Helpers

    /// The request body, up to ``GatewayConfiguration/maxBodyBytes`` (413 beyond).
    private func body(of request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw GatewayError(
                .contentTooLarge, type: "invalid_request_error", code: "request_too_large",
                "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
    }

    /// A failure as the caller sees it, with the time a retry may succeed.
    private func gatewayError(_ error: any Error) async -> GatewayError {
        guard let error = error as? RouterError else {
            return GatewayError(.internalServerError, type: "api_error", "the request failed")
        }
        var retryAt = error.noEligibleKey?.earliestRetry
        if error.code == .budgetExceeded, retryAt == nil, let id = error.budgetID {
            retryAt = try? await router.budgetStatus(id).periodEnd
        }
        return GatewayError.from(error, retryAt: retryAt, now: router.clock.now())
    }

    private static func openAIError(_ error: GatewayError) -> Response {
        var response = Self.response(error.status, contentType: "application/json", OpenAIChatCompletionWriter.error(error))
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    private static func event(_ json: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + 8)
        buffer.writeString("data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    private static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        response(status, contentType: "application/json", value.jsonBytes)
    }

    private static func response(_ status: HTTPResponse.Status, contentType: String, _ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
