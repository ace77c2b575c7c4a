/// What a call really used, reported to ``Router/settle(_:usage:)``.
public struct Usage: Sendable, Hashable, Codable {
    /// Input (prompt) tokens.
    public var inputTokens: Int
    /// Output (completion) tokens.
    public var outputTokens: Int
    /// How long the provider call took, for the latency strategy (`nil`: not measured).
    public var latency: Duration?

    /// Creates a usage report.
    public init(inputTokens: Int, outputTokens: Int, latency: Duration? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.latency = latency
    }

    /// No tokens used.
    public static let none = Usage(inputTokens: 0, outputTokens: 0)
}
