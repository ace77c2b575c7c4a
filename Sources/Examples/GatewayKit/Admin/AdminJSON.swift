internal import Foundation
internal import RouterChat
internal import RouterSDK

/// How the admin API writes the router's types as JSON: money as exact integer nanodollars,
/// times as RFC 3339 UTC, never a secret.
enum AdminJSON {
    static func time(_ timestamp: Timestamp?) -> JSONValue {
        guard let timestamp else { return .null }
        let date = Date(timeIntervalSince1970: Double(timestamp.nanosecondsSinceEpoch) / 1e9)
        return .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func money(_ money: Money) -> JSONValue { .integer(money.nanodollars) }

    static func optional(_ value: Int?) -> JSONValue { value.map { .integer(Int64($0)) } ?? .null }

    static func strings(_ values: some Sequence<String>) -> JSONValue { .array(values.sorted().map(JSONValue.string)) }

    /// A provider key: settings, state and quota; its secret is write-only.
    static func key(_ id: KeyID, settings: KeySettings, quota: KeyQuota) -> JSONValue {
        var state: [String: JSONValue] = ["name": .string(quota.state.name), "cooldown_until": time(quota.state.cooldownDeadline)]
        if case .disabled(let reason) = quota.state { state["reason"] = .string(reason) }
        let cooldowns: [JSONValue] = quota.modelCooldowns.sorted { $0.key < $1.key }.map { model, until in
            ["model": .string(model.name), "until": time(until)]
        }
        return [
            "id": .string(id.rawValue), "provider": .string(settings.provider.rawValue), "models": strings(settings.models),
            "priority": .integer(Int64(settings.priority)), "weight": .integer(Int64(settings.weight)), "tags": strings(settings.tags),
            "limits": [
                "requests_per_minute": optional(settings.limits.requestsPerMinute), "tokens_per_minute": optional(settings.limits.tokensPerMinute),
                "requests_per_day": optional(settings.limits.requestsPerDay), "max_concurrent_requests": optional(settings.limits.maxConcurrentRequests),
            ],
            "state": .object(state),
            "quota": [
                "remaining_requests_per_minute": optional(quota.remainingRequestsPerMinute),
                "remaining_tokens_per_minute": optional(quota.remainingTokensPerMinute),
                "remaining_requests_per_day": optional(quota.remainingRequestsPerDay), "in_flight": .integer(Int64(quota.inFlight)),
                "requests": .integer(Int64(quota.requests)), "failures": .integer(Int64(quota.failures)), "spend_nanodollars": money(quota.spend),
                "success_rate_ppm": .integer(Int64(quota.successRatePPM)), "model_cooldowns": .array(cooldowns),
            ],
        ]
    }

    static func budget(_ status: BudgetStatus) -> JSONValue {
        let budget = status.budget
        var json: [String: JSONValue] = [
            "id": .string(budget.id.rawValue), "scope": .string(budget.scope.description), "period": .string(budget.period.rawValue),
            "limit_nanodollars": money(budget.limit), "enforcement": .string(budget.enforcement.rawValue),
            "revision": optional(budget.revision), "period_start": time(status.periodStart), "period_end": time(status.periodEnd),
            "spent_nanodollars": money(status.spent), "reserved_nanodollars": money(status.reserved), "remaining_nanodollars": money(status.remaining),
        ]
        if let fleet = status.fleet {
            json["fleet"] = ["spent_nanodollars": money(fleet.spent), "granted_nanodollars": money(fleet.granted), "instance_unused_nanodollars": money(fleet.instanceUnused)]
        }
        return .object(json)
    }

    static func virtualKey(_ key: VirtualKey) -> JSONValue {
        [
            "id": .string(key.id), "name": .string(key.name), "tags": strings(key.tags), "models": strings(key.models),
            "requests_per_minute": optional(key.requestsPerMinute), "disabled": .bool(key.disabled), "created": time(key.created),
            "tag": .string(key.ownTag),
        ]
    }

    static func decision(_ sample: DecisionSample) -> JSONValue {
        [
            "at": time(sample.at), "lease": .integer(Int64(truncatingIfNeeded: sample.leaseID)), "key": .string(sample.keyID.rawValue),
            "provider": .string(sample.model.provider.rawValue), "model": .string(sample.model.name), "strategy": .string("\(sample.strategy)"),
            "reserved_nanodollars": money(sample.reservedCost), "reason": .string(sample.explanation),
        ]
    }
}
