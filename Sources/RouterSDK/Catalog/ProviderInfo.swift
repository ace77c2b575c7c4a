/// How a provider is spoken to: its wire format, where it lives and how it authenticates.
public struct ProviderInfo: Sendable, Hashable, Codable {
    /// The wire format of a provider's API.
    ///
    /// Frozen: a new wire format needs a new adapter, which comes in a major version; until then new providers reuse these three (most speak `openAIChat`).
    public enum WireFormat: String, Sendable, Hashable, Codable, CaseIterable {
        /// OpenAI chat completions (also Groq, Mistral, OpenRouter, Ollama's `/v1`).
        case openAIChat = "openai-chat"
        /// Anthropic messages.
        case anthropicMessages = "anthropic-messages"
        /// Google Gemini `generateContent`.
        case geminiGenerateContent = "gemini-generate-content"
    }

    /// The provider's id.
    public var id: ProviderID
    /// A display name.
    public var displayName: String
    /// The wire format.
    public var wireFormat: WireFormat
    /// The API base URL.
    public var baseURL: String
    /// Whether calls need a key (`false` for a local Ollama).
    public var requiresKey: Bool

    /// Creates provider information.
    public init(id: ProviderID, displayName: String, wireFormat: WireFormat, baseURL: String, requiresKey: Bool = true) {
        self.id = id
        self.displayName = displayName
        self.wireFormat = wireFormat
        self.baseURL = baseURL
        self.requiresKey = requiresKey
    }
}
