/// What a model costs per million input and output tokens.
///
/// A request's cost is `ceil(input × inputPerMillion / 10⁶) + ceil(output × outputPerMillion / 10⁶)`
/// nanodollars: exact integer arithmetic (128-bit intermediates), rounding each part up to the
/// next nanodollar so that the ledger never under-charges.
public struct ModelPrice: Sendable, Hashable, Codable {
    /// Price of one million input (prompt) tokens.
    public var inputPerMillion: Money
    /// Price of one million output (completion) tokens.
    public var outputPerMillion: Money

    /// Creates a price. Use ``validated()`` to reject negative prices.
    public init(inputPerMillion: Money, outputPerMillion: Money) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    /// A model that costs nothing (local models such as Ollama's).
    public static let free = ModelPrice(inputPerMillion: .zero, outputPerMillion: .zero)

    /// The exact cost of a request with the given token counts. Negative counts count as zero.
    @inlinable
    public func cost(inputTokens: Int, outputTokens: Int) -> Money {
        Money(nanodollars: Self.part(inputTokens, inputPerMillion).addingSaturating(Self.part(outputTokens, outputPerMillion)))
    }

    @usableFromInline
    static func part(_ tokens: Int, _ perMillion: Money) -> Int64 {
        guard tokens > 0, perMillion.nanodollars > 0 else { return 0 }
        let product = Int128(tokens) * Int128(perMillion.nanodollars)
        let rounded = (product + 999_999) / 1_000_000
        return rounded > Int128(Int64.max) ? .max : Int64(rounded)
    }

    /// Throws ``RouterError/Code/invalidPrice`` when either price is negative.
    package func validated(model: String) throws(RouterError) -> ModelPrice {
        guard inputPerMillion >= .zero, outputPerMillion >= .zero else {
            throw RouterError(.invalidPrice, "price of model '\(model)' must not be negative (got \(inputPerMillion) in, \(outputPerMillion) out per million tokens)", model: model)
        }
        return self
    }
}
