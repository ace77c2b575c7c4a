/// The stable identity of an API key, separate from its secret so a key can be rotated
/// without changing identity. Safe to log.
public struct KeyID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier text.
    public let rawValue: String
    /// Creates an id; ``Router/register(_:)`` rejects empty ids.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: KeyID, rhs: KeyID) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The identity of a budget. Safe to log.
public struct BudgetID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier text.
    public let rawValue: String
    /// Creates an id; ``Router/setBudget(_:)`` rejects empty ids.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: BudgetID, rhs: BudgetID) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An upstream API family such as `openai` or `anthropic`, or a custom OpenAI-compatible one.
public struct ProviderID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The provider's lower-case name.
    public let rawValue: String
    /// Creates a provider id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: ProviderID, rhs: ProviderID) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// OpenAI.
    public static let openai = ProviderID("openai")
    /// Anthropic.
    public static let anthropic = ProviderID("anthropic")
    /// Google Gemini.
    public static let gemini = ProviderID("gemini")
    /// Groq.
    public static let groq = ProviderID("groq")
    /// Mistral.
    public static let mistral = ProviderID("mistral")
    /// OpenRouter.
    public static let openrouter = ProviderID("openrouter")
    /// A local Ollama server.
    public static let ollama = ProviderID("ollama")
}

/// A model at a provider: the unit the catalog prices and keys serve.
public struct ModelRef: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The provider that serves the model.
    public var provider: ProviderID
    /// The model's name at that provider, e.g. `gpt-4o-mini`.
    public var name: String
    /// Creates a model reference.
    public init(provider: ProviderID, name: String) {
        self.provider = provider
        self.name = name
    }
    /// `provider/name`.
    public var description: String { "\(provider)/\(name)" }
    public static func < (lhs: ModelRef, rhs: ModelRef) -> Bool {
        (lhs.provider, lhs.name) < (rhs.provider, rhs.name)
    }
}
