import Foundation
@testable import RouterSDK
import Testing

@Suite struct MoneyTests {
    @Test(arguments: [
        ("0", 0), ("1", 1_000_000_000), ("0.15", 150_000_000), ("12.50", 12_500_000_000),
        ("-3.000000001", -3_000_000_001), ("0.000000001", 1), ("+2", 2_000_000_000),
    ] as [(String, Int64)])
    func parsesDecimalExactly(text: String, nanos: Int64) {
        #expect(Money(decimal: text)?.nanodollars == nanos)
    }

    @Test(arguments: ["", "abc", "1.2.3", "0.0000000001", "1e5", "--1", "99999999999999999999"])
    func rejectsMalformedDecimals(text: String) {
        #expect(Money(decimal: text) == nil)
    }

    @Test func formatsAndRoundTrips() {
        #expect(Money(cents: 1250).description == "$12.50")
        #expect(Money(nanodollars: 1).description == "$0.000000001")
        #expect(Money(nanodollars: -150_000_000).description == "-$0.15")
        for value: Int64 in [0, 1, 999, 123_456_789_012, -42] {
            #expect(Money(decimal: Money(nanodollars: value).decimalString)?.nanodollars == value)
        }
    }

    @Test func arithmeticSaturatesInsteadOfTrapping() {
        let huge = Money(nanodollars: .max - 1)
        #expect((huge + Money(dollars: 5)).nanodollars == .max)
        #expect(Money(dollars: .max).nanodollars == .max)
    }

    @Test func costIsExactAndRoundsUpPerPart() {
        let price = ModelPrice(inputPerMillion: Money(decimal: "0.15")!, outputPerMillion: Money(decimal: "0.60")!)
        // 1,000 input tokens at $0.15/M = $0.00015; 500 output at $0.60/M = $0.0003.
        #expect(price.cost(inputTokens: 1000, outputTokens: 500) == Money(decimal: "0.00045"))
        // 1 token at $0.0375/M is 37.5 nanodollars: rounded up to 38, never under-charged.
        let odd = ModelPrice(inputPerMillion: Money(decimal: "0.0375")!, outputPerMillion: .zero)
        #expect(odd.cost(inputTokens: 1, outputTokens: 0).nanodollars == 38)
        #expect(odd.cost(inputTokens: -5, outputTokens: 0) == .zero)
        // A huge product does not overflow 64 bits in the intermediate step.
        let pricey = ModelPrice(inputPerMillion: Money(dollars: 600), outputPerMillion: Money(dollars: 600))
        #expect(pricey.cost(inputTokens: 100_000_000, outputTokens: 0) == Money(dollars: 60_000))
    }

    @Test func negativePricesAreRejected() {
        let price = ModelPrice(inputPerMillion: Money(dollars: -1), outputPerMillion: .zero)
        #expect { try price.validated(model: "x") } throws: { ($0 as? RouterError)?.code == .invalidPrice }
    }
}

@Suite struct CalendarTests {
    private func ms(_ y: Int64, _ m: Int64, _ d: Int64, _ h: Int64 = 0) -> Int64 {
        CivilDate(year: y, month: m, day: d).daysSinceEpoch * 86_400_000 + h * 3_600_000
    }

    @Test func civilDatesRoundTrip() {
        for days: Int64 in [-1, 0, 1, 10_957, 11_016, 20_454, 60_000] {
            #expect(CivilDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(CivilDate(daysSinceEpoch: 0) == CivilDate(year: 1970, month: 1, day: 1))
        #expect(CivilDate(year: 2024, month: 3, day: 1).daysSinceEpoch - CivilDate(year: 2024, month: 2, day: 28).daysSinceEpoch == 2)
    }

    @Test func periodsAreCalendarAlignedInUTC() {
        let instant = ms(2026, 2, 14, 13) + 1234
        #expect(Budget.Period.day.bounds(containing: instant) == (ms(2026, 2, 14), ms(2026, 2, 15)))
        #expect(Budget.Period.hour.bounds(containing: instant) == (ms(2026, 2, 14, 13), ms(2026, 2, 14, 14)))
        #expect(Budget.Period.month.bounds(containing: instant) == (ms(2026, 2, 1), ms(2026, 3, 1)))
        #expect(Budget.Period.month.bounds(containing: ms(2024, 12, 31, 23)) == (ms(2024, 12, 1), ms(2025, 1, 1)))
        #expect(Budget.Period.minute.bounds(containing: 59_999) == (0, 60_000))
        #expect(Budget.Period.total.bounds(containing: instant) == (.min, .max))
    }

    @Test func timestampsPrintAsISO8601() {
        #expect(Timestamp(secondsSinceEpoch: 1_767_225_600).description == "2026-01-01T00:00:00.000Z")
        #expect((Timestamp(secondsSinceEpoch: 0) + .milliseconds(1500)).description == "1970-01-01T00:00:01.500Z")
    }
}

@Suite struct CatalogTests {
    @Test func bundledCatalogCoversEveryProvider() throws {
        let catalog = try ModelCatalog.bundled()
        for provider: ProviderID in [.openai, .anthropic, .gemini, .groq, .mistral, .openrouter, .ollama] {
            #expect(!catalog.models(of: provider).isEmpty, "no models for \(provider)")
        }
        for model in catalog.models(of: .ollama) { #expect(model.price == .free) }
        #expect(catalog.resolve("gpt-4o-mini") == [ModelRef(provider: .openai, name: "gpt-4o-mini"), ModelRef(provider: .openrouter, name: "gpt-4o-mini")].filter { catalog.models[$0] != nil })
        #expect(catalog.resolve("openrouter/openai/gpt-4o-mini") == [ModelRef(provider: .openrouter, name: "openai/gpt-4o-mini")])
        #expect(catalog.resolve("no-such-model").isEmpty)
    }

    @Test(arguments: [
        "not json",
        #"{"version":1,"providers":[],"models":[{"provider":"x","name":"m","inputPerMillion":"1","outputPerMillion":"1","contextWindow":1,"maxOutputTokens":1}]}"#,
        #"{"version":1,"providers":[{"id":"p","displayName":"P","wireFormat":"smoke-signals","baseURL":"u"}],"models":[]}"#,
        #"{"version":1,"providers":[{"id":"p","displayName":"P","wireFormat":"openai-chat","baseURL":"u"}],"models":[{"provider":"p","name":"m","inputPerMillion":"1.5.5","outputPerMillion":"1","contextWindow":1,"maxOutputTokens":1}]}"#,
        #"{"version":1,"providers":[{"id":"p","displayName":"P","wireFormat":"openai-chat","baseURL":"u"}],"models":[{"provider":"p","name":"m","inputPerMillion":"-1","outputPerMillion":"1","contextWindow":1,"maxOutputTokens":1}]}"#,
        #"{"version":1,"providers":[{"id":"p","displayName":"P","wireFormat":"openai-chat","baseURL":"u"}],"models":[{"provider":"p","name":"m","inputPerMillion":"1","outputPerMillion":"1","contextWindow":0,"maxOutputTokens":1}]}"#,
        #"{"version":1,"providers":[{"id":"p","displayName":"P","wireFormat":"openai-chat","baseURL":"u"},{"id":"p","displayName":"P","wireFormat":"openai-chat","baseURL":"u"}],"models":[]}"#,
    ])
    func malformedCatalogsGiveTypedErrors(json: String) {
        do {
            _ = try ModelCatalog(json: Data(json.utf8))
            Issue.record("accepted a malformed catalog")
        } catch {
            #expect((error as? RouterError)?.code == .malformedCatalog)
        }
    }
}
