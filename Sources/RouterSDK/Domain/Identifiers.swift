/// A string-backed identifier: printable, ordered, and coded as a bare string.
public protocol StringIdentifier: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier text.
    var rawValue: String { get }
    /// Creates an identifier from its text.
    init(_ rawValue: String)
}

extension StringIdentifier {
    public init(stringLiteral value: String) { self.init(value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The stable identity of an API key, separate from its secret so a key can be rotated
/// without changing identity. Safe to log.
public struct KeyID: StringIdentifier {
    /// The identifier text.
    public let rawValue: String
    /// Creates an id; ``LLMRouter/register(_:)`` rejects empty ids.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// The identity of a budget. Safe to log.
public struct BudgetID: StringIdentifier {
    /// The identifier text.
    public let rawValue: String
    /// Creates an id; ``LLMRouter/setBudget(_:)`` rejects empty ids.
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// An upstream API family such as `openai` or `anthropic`, or a custom OpenAI-compatible one.
public struct ProviderID: StringIdentifier {
    /// The provider's lower-case name.
    public let rawValue: String
    /// Creates a provider id.
    public init(_ rawValue: String) { self.rawValue = rawValue }

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
