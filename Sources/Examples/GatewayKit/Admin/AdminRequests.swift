internal import RouterChat
internal import RouterSDK

/// The admin API's request bodies, read into the router's types; each throws a 400
/// ``GatewayError`` naming the member at fault.
enum AdminRequests {
    /// `POST /admin/keys`: `{"id", "provider", "secret", "models"?, "priority"?, "weight"?,
    /// "tags"?, "limits"?: {"requests_per_minute", "tokens_per_minute", "requests_per_day",
    /// "max_concurrent_requests"}}`.
    static func key(_ json: JSONValue) throws(GatewayError) -> APIKey {
        let id = try RequestFields.name(json["id"], "id")
        let provider = try RequestFields.name(json["provider"], "provider")
        let secret = try RequestFields.name(json["secret"], "secret")
        let limits = json["limits"]
        switch limits {
        case nil, .null?, .object?: break
        default: throw .invalidRequest("'limits' must be an object", parameter: "limits")
        }
        let settings = KeySettings(
            provider: ProviderID(provider.lowercased()), models: Set(try RequestFields.strings(json["models"], "models")),
            weight: try integer(json["weight"], "weight", in: 1...1_000_000) ?? 1, priority: try integer(json["priority"], "priority", in: -1_000_000...1_000_000) ?? 0,
            tags: Set(try RequestFields.strings(json["tags"], "tags")),
            limits: KeyLimits(
                requestsPerMinute: try integer(limits?["requests_per_minute"], "limits.requests_per_minute", in: 1...KeyLimits.maximum),
                tokensPerMinute: try integer(limits?["tokens_per_minute"], "limits.tokens_per_minute", in: 1...KeyLimits.maximum),
                requestsPerDay: try integer(limits?["requests_per_day"], "limits.requests_per_day", in: 1...KeyLimits.maximum),
                maxConcurrentRequests: try integer(limits?["max_concurrent_requests"], "limits.max_concurrent_requests", in: 1...KeyLimits.maximum)))
        return APIKey(id: KeyID(id), secret: Secret(secret), settings: settings)
    }

    /// `PUT /admin/budgets/{id}`: `{"scope"?: "global" | "provider:…" | "key:…" | "model:…" |
    /// "tag:…", "period", "limit_nanodollars", "enforcement"?: "hard" | "soft", "revision"?}`.
    static func budget(_ id: String, _ json: JSONValue) throws(GatewayError) -> Budget {
        guard let periodName = json["period"]?.string, let period = Budget.Period(rawValue: periodName) else {
            throw .invalidRequest("'period' must be one of \(Budget.Period.allCases.map(\.rawValue).joined(separator: ", "))", parameter: "period")
        }
        guard let limit = json["limit_nanodollars"]?.integer, limit >= 0 else {
            throw .invalidRequest("'limit_nanodollars' must be a whole number of nanodollars, 0 or more", parameter: "limit_nanodollars")
        }
        var enforcement = Budget.Enforcement.hard
        if let value = json["enforcement"], !value.isNull {
            guard let name = value.string, let parsed = Budget.Enforcement(rawValue: name) else {
                throw .invalidRequest("'enforcement' must be 'hard' or 'soft'", parameter: "enforcement")
            }
            enforcement = parsed
        }
        var scopeText = "global"
        if let value = json["scope"], !value.isNull {
            guard let text = value.string else { throw .invalidRequest("'scope' must be a string", parameter: "scope") }
            scopeText = text
        }
        return Budget(
            id: BudgetID(id), scope: try scope(scopeText), period: period, limit: Money(nanodollars: limit),
            enforcement: enforcement, revision: try integer(json["revision"], "revision", in: 0...Int.max))
    }

    /// A budget scope as the admin API writes it (``RouterSDK/Budget/Scope`` descriptions).
    static func scope(_ text: String) throws(GatewayError) -> Budget.Scope {
        if text == "global" { return .global }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw .invalidRequest("'scope' must be global, provider:…, key:…, model:… or tag:…", parameter: "scope")
        }
        switch parts[0] {
        case "provider": return .provider(ProviderID(parts[1]))
        case "key": return .key(KeyID(parts[1]))
        case "model": return .model(parts[1])
        case "tag": return .tag(parts[1])
        default: throw .invalidRequest("'scope' must be global, provider:…, key:…, model:… or tag:…", parameter: "scope")
        }
    }

    /// `POST /admin/virtual-keys`: `{"name", "tags"?, "models"?, "requests_per_minute"?,
    /// "budget"?: {"period", "limit_nanodollars"}}`.
    static func virtualKey(_ json: JSONValue) throws(GatewayError) -> (VirtualKeySpec, (period: Budget.Period, limit: Money)?) {
        let spec = VirtualKeySpec(
            name: try RequestFields.name(json["name"], "name"), tags: Set(try RequestFields.strings(json["tags"], "tags")),
            models: Set(try RequestFields.strings(json["models"], "models")),
            requestsPerMinute: try integer(json["requests_per_minute"], "requests_per_minute", in: 1...Int(Int32.max)))
        guard let budget = json["budget"], !budget.isNull else { return (spec, nil) }
        let parsed = try Self.budget("virtual-key", budget)
        return (spec, (parsed.period, parsed.limit))
    }

    static func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) throws(GatewayError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let integer = value.integer, let int = Int(exactly: integer), range.contains(int) else {
            throw .invalidRequest("'\(path)' must be an integer from \(range.lowerBound) to \(range.upperBound)", parameter: path)
        }
        return int
    }
}
