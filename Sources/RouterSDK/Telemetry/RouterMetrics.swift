internal import CoreMetrics
internal import Metrics

/// The router's swift-metrics instruments, created once so the hot path only increments.
///
/// With no metrics backend bootstrapped these are no-ops. Labels never contain secrets: keys
/// appear by id, budgets by id.
struct RouterMetrics: Sendable {
    let decisions = Counter(label: "routersdk_decisions_total")
    let decisionFailures = Counter(label: "routersdk_decisions_failed_total")
    let decisionDuration = Timer(label: "routersdk_decision_duration_seconds")
    let cost = Counter(label: "routersdk_cost_nanodollars_total")
    let settled = Counter(label: "routersdk_requests_total", dimensions: [("outcome", "success")])
    let failed: [String: Counter]
    let transitions = Counter(label: "routersdk_key_transitions_total")
    let keysByState: [String: Gauge]
    let budgetAlerts = Counter(label: "routersdk_budget_alerts_total")
    let failovers = Counter(label: "routersdk_failovers_total")
    /// Settles that took a hard budget past its limit, and by how much in total.
    let budgetOverruns = Counter(label: "routersdk_budget_overruns_total")
    let budgetOverrunAmount = Counter(label: "routersdk_budget_overrun_nanodollars_total")
    /// Leases reclaimed after their time-to-live.
    let leasesExpired = Counter(label: "routersdk_leases_expired_total")
    /// Records waiting in the store writer's buffer, and records it had to drop (buffer full
    /// past its wait, or given up on at shutdown).
    let storeBuffered = Gauge(label: "routersdk_store_buffered_records")
    let storeDropped = Counter(label: "routersdk_store_records_dropped_total")
    /// Usage events in the store's ledger, as last counted by ``LLMRouter/ledgerSize()`` or a prune.
    let ledgerEvents = Gauge(label: "routersdk_ledger_usage_events")
    /// 1 while the state store refuses writes, else 0.
    let storeDegraded = Gauge(label: "routersdk_store_degraded")

    init() {
        var failed: [String: Counter] = [:]
        for failure in ["rate_limited", "quota_exhausted", "auth_invalid", "server_error", "timeout", "cancelled", "rejected"] {
            failed[failure] = Counter(label: "routersdk_requests_total", dimensions: [("outcome", failure)])
        }
        self.failed = failed
        var gauges: [String: Gauge] = [:]
        for state in ["available", "throttled", "exhausted", "disabled", "invalid"] {
            gauges[state] = Gauge(label: "routersdk_keys", dimensions: [("state", state)])
        }
        keysByState = gauges
    }
}
