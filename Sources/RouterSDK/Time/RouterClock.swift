#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The source of time for a ``Router``: wall-clock readings and sleeping until a deadline.
///
/// Inject a clock you control (RouterTesting's `ManualClock`) to test rate-limit windows,
/// cooldowns and budget periods without sleeping.
///
/// Contract: `now()` is cheap (it runs on every routing decision) and never goes backwards by
/// more than the host clock does; `sleep(until:)` returns once `now() >= deadline` and throws
/// `CancellationError` when the calling task is cancelled.
public protocol RouterClock: Sendable {
    /// The current wall-clock time.
    func now() -> Timestamp
    /// Suspends until `deadline` has passed or the task is cancelled.
    func sleep(until deadline: Timestamp) async throws
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

    public func sleep(until deadline: Timestamp) async throws {
        let remaining = deadline - now()
        if remaining > .zero {
            try await Task.sleep(for: remaining)
        }
    }
}
