public import Foundation

/// The providers and models a router knows, with prices: shipped as data, overridable at runtime.
///
/// ``bundled()`` loads `model-catalog.json` from the package's resources. Prices there are
/// decimal strings in US dollars per million tokens (parsed exactly, never as floating point).
/// Replace or add entries with ``setModel(_:)``, or on a live router with
/// ``LLMRouter/setModel(_:)``.
public struct ModelCatalog: Sendable {
    /// Providers by id.
    public private(set) var providers: [ProviderID: ProviderInfo]
    /// Models by reference.
    public private(set) var models: [ModelRef: ModelInfo]

    /// An empty catalog.
    public init() {
        providers = [:]
        models = [:]
    }

    /// The catalog shipped with RouterSDK.
    public static func bundled() throws -> ModelCatalog {
        guard let url = Bundle.module.url(forResource: "model-catalog", withExtension: "json") else {
            throw RouterError(.malformedCatalog, "the bundled model-catalog.json resource is missing")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RouterError(.malformedCatalog, "cannot read the bundled catalog: \(error)")
        }
        return try ModelCatalog(json: data)
    }

    /// Parses a catalog document (the format of the bundled `model-catalog.json`).
    ///
    /// Throws ``RouterError/Code/malformedCatalog`` for invalid JSON, unknown wire formats,
    /// unparseable or negative prices, duplicate entries and models of undeclared providers.
    public init(json data: Data) throws {
        let document: CatalogDocument
        do {
            document = try JSONDecoder().decode(CatalogDocument.self, from: data)
        } catch {
            throw RouterError(.malformedCatalog, "catalog JSON is invalid: \(error)")
        }
        self.init()
        for provider in document.providers {
            guard let format = ProviderInfo.WireFormat(rawValue: provider.wireFormat) else {
                throw RouterError(.malformedCatalog, "provider '\(provider.id)' has unknown wire format '\(provider.wireFormat)'")
            }
            guard !provider.id.isEmpty, providers[ProviderID(provider.id)] == nil else {
                throw RouterError(.malformedCatalog, "provider id '\(provider.id)' is empty or duplicated")
            }
            providers[ProviderID(provider.id)] = ProviderInfo(
                id: ProviderID(provider.id), displayName: provider.displayName, wireFormat: format,
                baseURL: provider.baseURL, requiresKey: provider.requiresKey ?? true)
        }
        for model in document.models {
            let ref = ModelRef(provider: ProviderID(model.provider), name: model.name)
            guard providers[ref.provider] != nil else {
                throw RouterError(.malformedCatalog, "model '\(ref)' names undeclared provider '\(model.provider)'", model: model.name)
            }
            guard let input = Money(decimal: model.inputPerMillion), let output = Money(decimal: model.outputPerMillion) else {
                throw RouterError(.malformedCatalog, "model '\(ref)' has an unparseable price", model: model.name)
            }
            guard models[ref] == nil else {
                throw RouterError(.malformedCatalog, "model '\(ref)' is listed twice", model: model.name)
            }
            let info = ModelInfo(
                ref: ref, price: ModelPrice(inputPerMillion: input, outputPerMillion: output),
                contextWindow: model.contextWindow, maxOutputTokens: model.maxOutputTokens,
                usesMaxCompletionTokens: model.maxCompletionTokens ?? false)
            do {
                models[ref] = try info.validated()
            } catch {
                throw RouterError(.malformedCatalog, "model '\(ref)': \(error.message)", model: model.name)
            }
        }
    }

    /// Adds or replaces a provider.
    public mutating func setProvider(_ provider: ProviderInfo) {
        providers[provider.id] = provider
    }

    /// Adds or replaces a model, after validating its price and limits.
    ///
    /// - Throws: ``RouterError`` with `invalidPrice` or `invalidLimits`.
    public mutating func setModel(_ model: ModelInfo) throws {
        try insert(model)
    }

    /// ``setModel(_:)`` with its error type spelled out, for the engine's typed paths.
    mutating func insert(_ model: ModelInfo) throws(RouterError) {
        models[model.ref] = try model.validated()
    }

    /// The models of one provider.
    public func models(of provider: ProviderID) -> [ModelInfo] {
        models.values.filter { $0.ref.provider == provider }.sorted { $0.ref < $1.ref }
    }

    /// Resolves a requested model name to catalog entries.
    ///
    /// An exact name matches every provider offering it (`gpt-4o-mini`); otherwise the text
    /// before the first `/` is read as a provider (`openrouter/anthropic/claude-sonnet-4.5`).
    public func resolve(_ name: String) -> [ModelRef] {
        var refs = models.keys.filter { $0.name == name }
        if refs.isEmpty, let slash = name.firstIndex(of: "/") {
            let ref = ModelRef(provider: ProviderID(String(name[..<slash])), name: String(name[name.index(after: slash)...]))
            if models[ref] != nil { refs = [ref] }
        }
        return refs.sorted()
    }
}

/// The on-disk shape of a catalog document.
private struct CatalogDocument: Decodable {
    struct Provider: Decodable {
        var id: String
        var displayName: String
        var wireFormat: String
        var baseURL: String
        var requiresKey: Bool?
    }

    struct Model: Decodable {
        var provider: String
        var name: String
        var inputPerMillion: String
        var outputPerMillion: String
        var contextWindow: Int
        var maxOutputTokens: Int
        var maxCompletionTokens: Bool?
    }

    var version: Int
    var providers: [Provider]
    var models: [Model]
}
