/// What a key may do and how it is chosen: everything about a key except its secret.
public struct KeySettings: Sendable, Hashable, Codable {
    /// The provider this key authenticates against.
    public var provider: ProviderID
    /// Models this key may serve; empty means every catalog model of its provider.
    public var models: Set<String>
    /// Relative weight for the weighted-random strategy (≥ 1).
    public var weight: Int
    /// Lower numbers are preferred by the priority strategy (explicit fallback order).
    public var priority: Int
    /// Labels a request can require with ``RouteRequest/requiredKeyTags``.
    public var tags: Set<String>
    /// Rate and concurrency limits.
    public var limits: KeyLimits

    /// Creates key settings.
    public init(
        provider: ProviderID, models: Set<String> = [], weight: Int = 1, priority: Int = 0,
        tags: Set<String> = [], limits: KeyLimits = .unlimited
    ) {
        self.provider = provider
        self.models = models
        self.weight = weight
        self.priority = priority
        self.tags = tags
        self.limits = limits
    }

    /// Throws a typed error for an invalid weight or limits.
    package func validate(keyID: KeyID) throws(RouterError) {
        guard weight >= 1, weight <= 1_000_000 else {
            throw RouterError(.invalidArgument, "weight of key '\(keyID)' must be between 1 and 1000000, got \(weight)", keyID: keyID)
        }
        guard !provider.rawValue.isEmpty else {
            throw RouterError(.invalidArgument, "key '\(keyID)' needs a provider", keyID: keyID)
        }
        try limits.validate(keyID: keyID)
    }
}

/// An API key to register: stable id, secret and settings.
public struct APIKey: Sendable {
    /// The stable id (safe to log).
    public var id: KeyID
    /// The secret material (never printed).
    public var secret: Secret
    /// Provider, models, weight, priority, tags and limits.
    public var settings: KeySettings

    /// Creates a key to register.
    public init(id: KeyID, secret: Secret, settings: KeySettings) {
        self.id = id
        self.secret = secret
        self.settings = settings
    }

    /// Creates a key to register from its settings' parts.
    public init(
        id: KeyID, provider: ProviderID, secret: Secret, models: Set<String> = [], weight: Int = 1,
        priority: Int = 0, tags: Set<String> = [], limits: KeyLimits = .unlimited
    ) {
        self.init(
            id: id, secret: secret,
            settings: KeySettings(provider: provider, models: models, weight: weight, priority: priority, tags: tags, limits: limits))
    }
}
