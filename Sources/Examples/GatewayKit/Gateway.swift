internal import HTTPTypes
public import Hummingbird
public import RouterChat
public import RouterSDK
internal import Logging
internal import NIOCore
internal import Prometheus

/// The gateway's HTTP API over one ``RouterSDK/LLMRouter`` and its ``RouterChat/ChatClient``:
/// OpenAI's chat completions and model list, Anthropic's messages, Ollama's chat, generate,
/// model list and version, each streamed and not, and health probes.
///
/// Every answer is in the caller's format whatever provider serves it; errors too, with the
/// status a client expects (400 bad request, 401 no or a wrong gateway key, 403 a model the key
/// may not use, 404 unknown model, 413 body too large, 429 with `retry-after` when every key is
/// cooling down, a budget is spent or the key's own rate limit is reached, 502/504 upstream).
/// With an admin token configured, the management API (`AdminAPI`) is under `/admin`.
public struct Gateway: Sendable {
    /// The gateway's version, reported by `/health` and Ollama's `/api/version`.
    public static let version = "0.1.0"

    /// The router whose keys, limits and budgets apply.
    public let router: LLMRouter
    /// How requests reach the providers.
    public let client: ChatClient
    /// Settings.
    public let configuration: GatewayConfiguration
    /// The keys clients authenticate with; `nil` runs the gateway open (no client
    /// authentication: only for a gateway reachable by trusted callers alone).
    public let virtualKeys: VirtualKeys?
    /// What `GET /metrics` reports.
    public let metrics: GatewayMetrics
    let started: ContinuousClock.Instant

    /// Creates the gateway's API; with `virtualKeys`, every model route requires one of them.
    public init(router: LLMRouter, client: ChatClient, configuration: GatewayConfiguration, virtualKeys: VirtualKeys?, metrics: GatewayMetrics = GatewayMetrics()) {
        self.router = router
        self.client = client
        self.configuration = configuration
        self.virtualKeys = virtualKeys
        self.metrics = metrics
        started = .now
    }

    /// The routes, for an `Application` (or a HummingbirdTesting client).
    public func routes() -> Router<BasicRequestContext> {
        let routes = Router()
        routes.add(middleware: GatewayMetricsMiddleware(metrics: metrics))
        routes.get("/metrics") { _, _ in await scrape() }
        routes.get("/health") { _, _ in health() }
        routes.get("/health/live") { _, _ in Self.json(.ok, ["status": "ok"]) }
        routes.get("/health/ready") { _, _ in await readiness() }
        routes.get("/v1/models") { request, _ in await models(request) }
        routes.post("/v1/chat/completions") { request, context in await chatCompletions(request, context) }
        routes.post("/v1/messages") { request, context in await messages(request, context) }
        // Ollama's API, and the root answer its clients probe for.
        routes.get("/") { _, _ in Self.response(.ok, contentType: "text/plain; charset=utf-8", Array("Ollama is running".utf8)) }
        routes.head("/") { _, _ in Response(status: .ok) }
        routes.post("/api/chat") { request, context in await ollama(.chat, request, context) }
        routes.post("/api/generate") { request, context in await ollama(.generate, request, context) }
        routes.get("/api/tags") { request, _ in await ollamaTags(request) }
        routes.get("/api/version") { _, _ in Self.json(.ok, ["version": .string(Self.version)]) }
        AdminAPI(gateway: self).add(to: routes)
        return routes
    }

    // MARK: Answering

    /// Routes `chat` and answers in `writer`'s format: one body, or a stream whose status is
    /// decided by its first content — until then a failure is an error response with its status;
    /// after it, the format's in-stream error ends the stream.
    func answer<Writer: AnswerWriter>(_ chat: ChatRequest, stream: Bool, with writer: Writer, logger: Logger) async -> Response {
        let start = ContinuousClock.now
        guard stream else {
            do {
                let response = try await client.chat(chat, logger: logger)
                metrics.upstream(provider: response.model.provider.rawValue, outcome: "success", duration: ContinuousClock.now - start)
                return Self.response(.ok, contentType: "application/json", writer.completion(response))
            } catch {
                await recordFailure(error, since: start)
                return Self.error(await gatewayError(error), as: Writer.self)
            }
        }
        let events = client.stream(chat, logger: logger)
        let first: (event: ChatStreamEvent?, provider: ProviderID?)
        do {
            first = try await Self.firstContent(of: events)
        } catch {
            await recordFailure(error, since: start)
            return Self.error(await gatewayError(error), as: Writer.self)
        }
        let body = ResponseBody { [router, metrics] output in
            var writer = writer
            func send(_ buffer: ByteBuffer) async throws {
                if buffer.readableBytes > 0 { try await output.write(buffer) }
            }
            let provider = first.provider?.rawValue ?? "none"
            try await send(writer.opening())
            do {
                if let event = first.event { try await send(writer.write(event)) }
                // The same stream, consumed on from where `firstContent` stopped.
                for try await event in events { try await send(writer.write(event)) }
                try await send(writer.closing())
                metrics.upstream(provider: provider, outcome: "success", duration: ContinuousClock.now - start)
            } catch let error as RouterError {
                metrics.upstream(provider: provider, outcome: error.code.description, duration: ContinuousClock.now - start)
                try await send(writer.failure(GatewayError.from(error, retryAt: nil, now: router.clock.now())))
            }
            try await output.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = Writer.streamContentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Reads `events` up to the first event a client sees (text, a tool call, the finish), and
    /// the provider that serves them.
    private static func firstContent(of events: AsyncThrowingStream<ChatStreamEvent, any Error>) async throws -> (ChatStreamEvent?, ProviderID?) {
        var provider: ProviderID?
        for try await event in events {
            if case .started(let model, _) = event {
                provider = model.provider
                continue
            }
            return (event, provider)
        }
        return (nil, provider)
    }

    /// A failed call in the upstream metrics, under the provider of the key it failed on
    /// (`none` when it never reached one: no key, a spent budget).
    private func recordFailure(_ error: any Error, since start: ContinuousClock.Instant) async {
        let routerError = error as? RouterError
        var provider = "none"
        if let key = routerError?.keyID, let settings = try? await router.settings(of: key) { provider = settings.provider.rawValue }
        metrics.upstream(provider: provider, outcome: routerError?.code.description ?? "error", duration: ContinuousClock.now - start)
    }

    /// `GET /metrics`: the registry in Prometheus' text format, budgets read now.
    private func scrape() async -> Response {
        metrics.budgets(await router.budgetStatuses())
        return Self.response(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", metrics.registry.emitToBuffer())
    }

    /// The request body, up to ``GatewayConfiguration/maxBodyBytes`` (413 beyond); a body that
    /// cannot be read is a 400.
    func body(of request: Request) async throws(GatewayError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw GatewayError(
                .contentTooLarge, type: "invalid_request_error", code: "request_too_large",
                "the request body is larger than \(configuration.maxBodyBytes) bytes")
        } catch {
            throw .invalidRequest("the request body could not be read")
        }
    }

    /// A failure as the caller sees it, with the time a retry may succeed.
    func gatewayError(_ error: any Error) async -> GatewayError {
        guard let error = error as? RouterError else {
            return GatewayError(.internalServerError, type: "api_error", "the request failed")
        }
        var retryAt = error.noEligibleKey?.earliestRetry
        if error.code == .budgetExceeded, retryAt == nil, let id = error.budgetID {
            retryAt = try? await router.budgetStatus(id).periodEnd
        }
        return GatewayError.from(error, retryAt: retryAt, now: router.clock.now())
    }

    /// The models some registered key serves (those `caller` may use, when given).
    func servedModels(for caller: VirtualKey? = nil) async -> [ModelRef] {
        let catalog = await router.catalog
        var served: Set<ModelRef> = []
        for id in await router.keyIDs {
            guard let settings = try? await router.settings(of: id) else { continue }
            for model in catalog.models(of: settings.provider)
            where (settings.models.isEmpty || settings.models.contains(model.ref.name)) && caller?.allows(model.ref.name) != false {
                served.insert(model.ref)
            }
        }
        return served.sorted()
    }

    // MARK: Responses

    /// An error answer in `Writer`'s format, with `retry-after` when a retry time is known.
    static func error<Writer: AnswerWriter>(_ error: GatewayError, as _: Writer.Type) -> Response {
        var response = response(error.status, contentType: "application/json", Writer.errorBody(error))
        if let seconds = error.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        return response
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        response(status, contentType: "application/json", value.jsonBytes)
    }

    static func response(_ status: HTTPResponse.Status, contentType: String, _ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
