public import RouterSDK

/// A gateway key: what a client authenticates with instead of a provider secret, mapped to the
/// tags its usage is recorded under, the models it may use and its own request rate.
///
/// Its token is shown once, when it is created or rotated; the store keeps only a keyed
/// fingerprint of it (``RouterSDK/MasterKey/fingerprint(of:purpose:)``), which is never listed.
/// Every request it makes carries the tag `vkey:<id>` besides its own tags, so budgets scoped
/// to that tag (or to a team tag it carries) cap its spend, and usage reports group by it.
public struct VirtualKey: Sendable, Hashable, Codable {
    /// A stable id (`vk_` and 12 hex digits), part of the token.
    public var id: String
    /// What the key is for (a person, a service); shown in listings and logs.
    public var name: String
    /// Tags added to every request (`team:search`, `tenant:acme`), sorted.
    public var tags: [String]
    /// The models the key may ask for; empty allows every model.
    public var models: [String]
    /// The key's own rate limit (requests per minute, per gateway instance), if any.
    public var requestsPerMinute: Int?
    /// A disabled key is refused (401) until enabled again.
    public var disabled: Bool
    /// When the key was created.
    public var created: Timestamp
    /// The token's keyed fingerprint (base64); never leaves the gateway.
    var fingerprint: String

    /// The tag every request of this key carries.
    public var ownTag: String { "vkey:\(id)" }

    /// Whether the key may ask for `model`.
    public func allows(_ model: String) -> Bool { models.isEmpty || models.contains(model) }
}

/// How a virtual key is made: its name, tags, models and rate limit.
public struct VirtualKeySpec: Sendable, Hashable {
    /// What the key is for.
    public var name: String
    /// Tags added to every request.
    public var tags: Set<String>
    /// Allowed models; empty allows every model.
    public var models: Set<String>
    /// Requests per minute, per gateway instance; `nil` for no limit of its own.
    public var requestsPerMinute: Int?

    /// Creates a specification.
    public init(name: String, tags: Set<String> = [], models: Set<String> = [], requestsPerMinute: Int? = nil) {
        self.name = name
        self.tags = tags
        self.models = models
        self.requestsPerMinute = requestsPerMinute
    }
}
