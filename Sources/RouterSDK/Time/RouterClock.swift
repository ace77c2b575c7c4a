#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of time for a ``LLMRouter``: wall-clock readings and sleeping until a deadline.
///
/// Inject a clock you control (RouterTesting's `ManualClock`) to test rate-limit windows,
/// cooldowns and budget periods without sleeping.
///
/// Contract: `now()` is cheap (it runs on every routing decision) and never goes backwards by
/// more than the host clock does; `monotonicNow()` never goes backwards and is not moved by
/// steps of the wall clock; `sleep(until:)` returns once `now() >= deadline` and throws
/// `CancellationError` when the calling task is cancelled.
///
/// The router keeps its calendar on `now()` (budget periods, ledger and transition times) and
/// measures elapsed time with `monotonicNow()` (rate windows, cooldowns, circuit breakers, lease
/// time-to-live), so a wall clock stepped back or forward neither refills a rate window nor ends
/// a cooldown early or late.
public protocol RouterClock: Sendable {
    /// The current wall-clock time.
    func now() -> Timestamp
    /// A reading of a clock that only moves forward at the rate time passes (its origin is
    /// arbitrary). The default implementation reads `now()`: clocks that can step should
    /// provide a real one.
    func monotonicNow() -> Duration
    /// Suspends until `deadline` has passed or the task is cancelled.
    func sleep(until deadline: Timestamp) async throws
}

extension RouterClock {
    public func monotonicNow() -> Duration {
        .nanoseconds(now().nanosecondsSinceEpoch)
    }
}

/// The host's real-time clock (`CLOCK_REALTIME`).
public struct SystemClock: RouterClock {
    /// Creates the system clock.
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }

    /// `CLOCK_MONOTONIC`.
    public func monotonicNow() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }

    public func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline - now()
        if remaining > .zero {
            try await Task.sleep(for: remaining)
        }
    }
}
