/// What a call really used, reported to ``LLMRouter/settle(_:usage:logger:)``.
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

    /// The most tokens of either kind one call can plausibly report (one billion). Settling more
    /// is refused as `invalidArgument` (the lease is still consumed, at its reserved cost).
    public static let maximumTokens = 1_000_000_000

    /// Usage as a provider reported it, made safe to charge: negative counts become 0 and counts
    /// above ``maximumTokens`` are clamped to it, so arithmetic on them can never overflow.
    public static func reported(inputTokens: Int64, outputTokens: Int64, latency: Duration? = nil) -> Usage {
        Usage(inputTokens: clamp(inputTokens), outputTokens: clamp(outputTokens), latency: latency)
    }

    private static func clamp(_ tokens: Int64) -> Int {
        Int(min(max(tokens, 0), Int64(maximumTokens)))
    }
}
