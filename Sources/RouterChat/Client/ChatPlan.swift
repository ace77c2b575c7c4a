internal import RouterSDK
/// One chat request's plan: the fallback chain, the token estimate and reservation, and how each
/// attempt's HTTP request is built; remembers what earlier failures rule out.
struct Plan: Sendable {
    let request: ChatRequest
    let catalog: ModelCatalog
    let chain: [String]
    let estimatedInput: Int
    let maxTokens: Int
    let timeout: Duration
    /// After a context-too-long failure: only models with a larger context window are tried.
    private(set) var minimumContext: Int?

    init(_ request: ChatRequest, configuration: ChatClient.Configuration, router: LLMRouter) throws(RouterError) {
        guard !request.messages.isEmpty else { throw RouterError(.invalidArgument, "a chat request needs at least one message") }
        guard configuration.maxAttemptsPerModel >= 1, configuration.maxResponseBytes >= 1, configuration.defaultMaxTokens >= 1 else {
            throw RouterError(.invalidArgument, "maxAttemptsPerModel, maxResponseBytes and defaultMaxTokens must be at least 1")
        }
        let maxTokens = request.maxTokens ?? configuration.defaultMaxTokens
        guard maxTokens >= 1 else { throw RouterError(.invalidArgument, "maxTokens must be at least 1 (got \(maxTokens))") }
        if let temperature = request.temperature, !(0...2).contains(temperature) {
            throw RouterError(.invalidArgument, "temperature must be between 0 and 2 (got \(temperature))")
        }
        self.request = request
        self.catalog = router.currentCatalog
        self.chain = [request.model] + (request.fallbacks.isEmpty ? configuration.fallbacks : request.fallbacks)
        self.estimatedInput = TokenEstimator.inputTokens(of: request)
        self.maxTokens = maxTokens
        self.timeout = configuration.requestTimeout
    }

    /// Whether `model` may still be tried.
    func allows(_ model: String) -> Bool {
        guard let minimumContext else { return true }
        return catalog.resolve(model).contains { (catalog.models[$0]?.contextWindow ?? 0) > minimumContext }
    }

    /// The route request for one model of the chain.
    func routeRequest(for model: String) -> RouteRequest {
        RouteRequest(
            model: model, estimatedInputTokens: estimatedInput, maxOutputTokens: maxTokens, tags: request.tags,
            requiredKeyTags: request.requiredKeyTags, strategy: request.strategy, deadline: request.deadline)
    }

    /// The adapter and HTTP request for a lease.
    func httpRequest(for lease: Lease, stream: Bool) throws -> (any ProviderAdapter, TransportRequest) {
        guard let provider = catalog.providers[lease.provider] else {
            throw RouterError(.unknownModel, "provider '\(lease.provider)' has no ProviderInfo (base URL, wire format); add it with LLMRouter.setProvider", model: lease.model.description)
        }
        let adapter = Self.adapter(for: provider.wireFormat)
        let options = RequestOptions(maxCompletionTokens: catalog.models[lease.model]?.usesMaxCompletionTokens ?? false)
        do {
            var http = try adapter.makeRequest(
                request, model: lease.model.name, baseURL: provider.baseURL, secret: provider.requiresKey ? lease.secret : nil,
                maxTokens: maxTokens, stream: stream, options: options)
            http.timeout = timeout
            return (adapter, http)
        } catch {
            throw attributed(error, lease)
        }
    }

    static func adapter(for format: ProviderInfo.WireFormat) -> any ProviderAdapter {
        switch format {
        case .openAIChat: OpenAIChatAdapter()
        case .anthropicMessages: AnthropicMessagesAdapter()
        case .geminiGenerateContent: GeminiAdapter()
        }
    }

    /// `error` with the lease's model and key filled in and the key's secret scrubbed out.
    func attributed(_ error: any Error, _ lease: Lease) -> any Error {
        guard var providerError = error as? ProviderError else { return error }
        return attributed(&providerError, lease)
    }

    func attributed(_ error: ProviderError, _ lease: Lease) -> ProviderError {
        var error = error
        return attributed(&error, lease)
    }

    private func attributed(_ error: inout ProviderError, _ lease: Lease) -> ProviderError {
        if error.model == nil { error.model = lease.model }
        if error.keyID == nil { error.keyID = lease.keyID }
        error.message = WireParsing.scrub(error.message, secret: lease.secret)
        return error
    }

    /// Whether the chain moves on after `error` from `model`, noting what it rules out.
    /// Walks the fallback chain — the one loop `chat` and `stream` share: runs `attempt` on each
    /// model the request still fits, moving to the next when the error calls for a fallback
    /// (``shouldFallBack(after:from:)``), and throws the last error when the chain runs out.
    ///
    /// When a later model fails without a provider failure of its own (no eligible key), the
    /// error carries the last provider failure of an earlier model: a 429 on the first model is
    /// not lost behind the fallback's `noEligibleKey`.
    mutating func overChain<T>(_ attempt: (Plan, String, RouteRequest) async throws -> T) async throws -> T {
        var lastError: (any Error)?
        var carried = Carried()
        for model in chain where allows(model) {
            do {
                return try await attempt(self, model, routeRequest(for: model))
            } catch {
                guard shouldFallBack(after: error, from: model) else { throw carried.filling(error) }
                carried.note(error)
                lastError = error
            }
        }
        throw carried.filling(lastError ?? RouterError(.noEligibleKey, "no model of the fallback chain can take the request"))
    }

    /// The last provider failure seen on the chain, for errors of later models that have none.
    private struct Carried {
        var failure: ProviderFailure?
        var providerError: ProviderError?

        mutating func note(_ error: any Error) {
            if let error = error as? ProviderError {
                providerError = error
                failure = error.failure
            } else if let error = error as? RouterError, error.lastFailure != nil {
                failure = error.lastFailure
                providerError = error.providerError ?? providerError
            }
        }

        /// `error` with the last provider failure filled in where it has none.
        func filling(_ error: any Error) -> any Error {
            guard var routerError = error as? RouterError else { return error }
            if routerError.lastFailure == nil { routerError.lastFailure = failure }
            if routerError.providerError == nil { routerError.providerError = providerError }
            return routerError
        }
    }

    mutating func shouldFallBack(after error: any Error, from model: String) -> Bool {
        if let error = error as? ProviderError {
            if error.kind == .contextTooLong {
                let window = catalog.resolve(model).compactMap { catalog.models[$0]?.contextWindow }.max() ?? 0
                minimumContext = max(minimumContext ?? 0, window)
            }
            return error.triggersFallback || error.failure.isRetryable
        }
        if let error = error as? RouterError {
            return error.code == .noEligibleKey || error.code == .attemptsExhausted || error.code == .unknownModel
        }
        return false
    }
}
