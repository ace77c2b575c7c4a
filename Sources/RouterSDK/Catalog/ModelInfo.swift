/// A catalog entry: a model at a provider with its price and limits.
public struct ModelInfo: Sendable, Hashable {
    /// The model.
    public var ref: ModelRef
    /// Its price per million tokens.
    public var price: ModelPrice
    /// The context window in tokens.
    public var contextWindow: Int
    /// The most output tokens one response may have.
    public var maxOutputTokens: Int
    /// Whether the model takes its output limit as `max_completion_tokens` instead of
    /// `max_tokens` (OpenAI's reasoning models: the o-series and gpt-5 refuse `max_tokens` with a
    /// 400). Only the OpenAI chat wire format reads it; the bundled catalog sets it for those
    /// models (`"maxCompletionTokens": true`).
    public var usesMaxCompletionTokens: Bool

    /// Creates a model entry.
    public init(ref: ModelRef, price: ModelPrice, contextWindow: Int, maxOutputTokens: Int, usesMaxCompletionTokens: Bool = false) {
        self.ref = ref
        self.price = price
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        self.usesMaxCompletionTokens = usesMaxCompletionTokens
    }

    /// Throws a typed error for negative prices or non-positive limits.
    func validated() throws(RouterError) -> ModelInfo {
        _ = try price.validated(model: ref.description)
        guard contextWindow > 0, maxOutputTokens > 0 else {
            throw RouterError(.invalidArgument, "model '\(ref)' needs a positive context window and max output tokens", model: ref.name)
        }
        guard !ref.name.isEmpty, !ref.provider.rawValue.isEmpty else {
            throw RouterError(.invalidArgument, "a model needs a provider and a name")
        }
        return self
    }
}
