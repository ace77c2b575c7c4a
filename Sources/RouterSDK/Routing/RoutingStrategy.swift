/// How the router picks among eligible keys. Selectable per router and per request.
///
/// Every strategy is O(1) or O(log n) per decision in the common case: each (provider, model)
/// pool keeps its available keys in a set maintained on state changes, plus a heap per scored
/// strategy built the first time that strategy is used.
///
/// Frozen in 1.x: an input; a new strategy comes in a major version.
public enum RoutingStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The cheapest worst-case cost across the requested models; round-robin among equal prices.
    case cost
    /// The lowest moving-average latency (unmeasured keys first, so they get measured).
    case latency
    /// The highest moving-average success rate; keys whose circuit breaker is open are skipped
    /// and get one half-open probe after the breaker's cooldown.
    case reliability
    /// The fewest requests in flight, then the fewest requests overall.
    case leastUsed
    /// Each available key in turn.
    case roundRobin
    /// Random, proportional to ``KeySettings/weight``.
    case weightedRandom
    /// The lowest ``KeySettings/priority`` first (explicit fallback order), spreading load among
    /// keys of equal priority.
    case priority
}
