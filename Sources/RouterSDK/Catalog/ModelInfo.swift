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

    /// Creates a model entry.
    public init(ref: ModelRef, price: ModelPrice, contextWindow: Int, maxOutputTokens: Int) {
        self.ref = ref
        self.price = price
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
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
