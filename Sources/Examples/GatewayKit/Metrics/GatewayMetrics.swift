public import Prometheus
internal import RouterSDK

/// The gateway's Prometheus metrics, in the registry `GET /metrics` emits:
///
/// - `gateway_requests_total{route, method, status}` and `gateway_request_duration_seconds{route,
///   method}` (RED per endpoint, labelled with the route's pattern; a path no route matches is
///   not counted, so probes of random paths cannot grow the series without bound);
/// - `gateway_upstream_requests_total{provider, outcome}` and
///   `gateway_upstream_duration_seconds{provider}` (RED per provider; a stream is timed to its end);
/// - `gateway_budget_{limit,spent,reserved,remaining}_nanodollars{budget}`, read at each scrape.
///
/// RouterSDK's own metrics — decision latency (`routersdk_decision_duration_seconds`), key
/// states (`routersdk_keys{state}`), store buffer depth (`routersdk_store_buffered_records`),
/// requests, cost, failovers — are swift-metrics; the Gateway executable bootstraps
/// `PrometheusMetricsFactory` over this same registry, so one scrape has both.
public final class GatewayMetrics: Sendable {
    /// The registry `/metrics` emits.
    public let registry: PrometheusCollectorRegistry

    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// Creates the gateway's metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// One answered request of an endpoint.
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("requests", unit: "total", help: "Requests answered, by route, method and status."),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", unit: "seconds", help: "Time to the response head, by route and method."),
            labels: [("route", route), ("method", method)], buckets: Self.durationBuckets
        ).record(duration)
    }

    /// One call through the router to a provider: `outcome` is `success` or the failure's kind.
    func upstream(provider: String, outcome: String, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("upstream_requests", unit: "total", help: "Calls through the router to a provider, by provider and outcome."),
            labels: [("provider", provider), ("outcome", outcome)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("upstream_duration", unit: "seconds", help: "Calls to a provider, to the end of the answer or stream."),
            labels: [("provider", provider)], buckets: Self.durationBuckets
        ).record(duration)
    }

    /// Sets the budget gauges from `statuses` (read at each scrape).
    func budgets(_ statuses: [BudgetStatus]) {
        for status in statuses {
            let labels = [("budget", status.budget.id.rawValue)]
            for (name, money) in [("limit", status.budget.limit), ("spent", status.spent), ("reserved", status.reserved), ("remaining", status.remaining)] {
                registry.makeGauge(descriptor: Self.name("budget_\(name)", unit: "nanodollars", help: "Each budget's \(name) in its current period."), labels: labels)
                    .set(Double(money.nanodollars))
            }
        }
    }

    private static func name(_ metric: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: metric, unitName: unit, helpText: help)
    }
}
