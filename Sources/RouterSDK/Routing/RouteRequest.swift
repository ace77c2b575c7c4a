/// What a caller wants routed.
public struct RouteRequest: Sendable, Hashable {
    /// The model names the request may use, most preferred first. A name matches every provider
    /// offering it; `provider/name` selects one. The cost strategy picks the cheapest; the others
    /// take the best key of the first model that has one.
    public var models: [String]
    /// Estimated input tokens (reserved against TPM limits and budgets).
    public var estimatedInputTokens: Int
    /// The most output tokens the call may produce (reserved at the model's output price).
    public var maxOutputTokens: Int
    /// Attribution tags such as a tenant or end-user id; `tag` budgets apply to them.
    public var tags: Set<String>
    /// Only keys carrying all of these tags are eligible.
    public var requiredKeyTags: Set<String>
    /// Only keys of these providers are eligible (empty: any).
    public var providers: Set<ProviderID>
    /// Keys that must not be used (`execute` adds keys that already failed).
    public var excludedKeys: Set<KeyID>
    /// Overrides the router's strategy for this request.
    public var strategy: RoutingStrategy?
    /// When the caller stops waiting; `execute` neither starts an attempt nor waits past it.
    public var deadline: Timestamp?
    /// Collect the alternatives considered into ``RoutingDecision/alternatives`` (costs a scan).
    public var explain: Bool

    /// Creates a request for one model.
    public init(
        model: String, estimatedInputTokens: Int = 0, maxOutputTokens: Int = 0, tags: Set<String> = [],
        requiredKeyTags: Set<String> = [], providers: Set<ProviderID> = [], excludedKeys: Set<KeyID> = [],
        strategy: RoutingStrategy? = nil, deadline: Timestamp? = nil, explain: Bool = false
    ) {
        self.init(
            models: [model], estimatedInputTokens: estimatedInputTokens, maxOutputTokens: maxOutputTokens, tags: tags,
            requiredKeyTags: requiredKeyTags, providers: providers, excludedKeys: excludedKeys, strategy: strategy,
            deadline: deadline, explain: explain)
    }

    /// Creates a request that may use any of several models.
    public init(
        models: [String], estimatedInputTokens: Int = 0, maxOutputTokens: Int = 0, tags: Set<String> = [],
        requiredKeyTags: Set<String> = [], providers: Set<ProviderID> = [], excludedKeys: Set<KeyID> = [],
        strategy: RoutingStrategy? = nil, deadline: Timestamp? = nil, explain: Bool = false
    ) {
        self.models = models
        self.estimatedInputTokens = estimatedInputTokens
        self.maxOutputTokens = maxOutputTokens
        self.tags = tags
        self.requiredKeyTags = requiredKeyTags
        self.providers = providers
        self.excludedKeys = excludedKeys
        self.strategy = strategy
        self.deadline = deadline
        self.explain = explain
    }

    /// Input plus output tokens reserved for the request.
    public var reservedTokens: Int { estimatedInputTokens + maxOutputTokens }

    func validate() throws(RouterError) {
        guard !models.isEmpty else { throw RouterError(.invalidArgument, "a route request needs at least one model") }
        guard estimatedInputTokens >= 0, maxOutputTokens >= 0 else {
            throw RouterError(.invalidArgument, "token counts must not be negative (input \(estimatedInputTokens), max output \(maxOutputTokens))")
        }
        guard estimatedInputTokens <= 100_000_000, maxOutputTokens <= 100_000_000 else {
            throw RouterError(.invalidArgument, "token counts above 100000000 are not plausible")
        }
    }
}
