public import RouterSDK

/// A ``RouterClock`` that only moves when you move it: test rate-limit windows, cooldowns and
/// budget periods without sleeping.
///
/// `sleep(until:)` suspends until ``advance(by:)`` or ``advance(to:)`` passes the deadline, or the
/// sleeping task is cancelled.
public final class ManualClock: RouterClock, Sendable {
    private struct Sleeper {
        var id: UInt64
        var deadline: Timestamp
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Timestamp
        var monotonic: Duration = .zero
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>

    /// Creates a clock reading `now` (default 2026-01-01T00:00:00Z).
    public init(now: Timestamp = Timestamp(secondsSinceEpoch: 1_767_225_600)) {
        state = Locked(State(now: now))
    }

    public func now() -> Timestamp {
        state.withLock { $0.now }
    }

    /// Moves with ``advance(by:)`` and ``advance(to:)``, not with ``set(to:)``.
    public func monotonicNow() -> Duration {
        state.withLock { $0.monotonic }
    }

    /// Moves time forward and wakes sleepers whose deadline has passed.
    public func advance(by duration: Duration) {
        let target = now() + duration
        advance(to: target)
    }

    /// Moves time to `instant` (never backwards) and wakes sleepers whose deadline has passed.
    public func advance(to instant: Timestamp) {
        let due = state.withLock { state -> [Sleeper] in
            if instant > state.now { state.monotonic += instant - state.now }
            state.now = max(state.now, instant)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Sets the wall clock to `instant`, backwards as well as forwards — what an NTP step or a
    /// VM restored from a snapshot does to a real clock: ``monotonicNow()`` does not move.
    /// Sleepers whose deadline is now passed wake.
    public func set(to instant: Timestamp) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = instant
            let due = state.sleepers.filter { $0.deadline <= instant }
            state.sleepers.removeAll { $0.deadline <= instant }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline any task sleeps until.
    public var nextDeadline: Timestamp? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Yields until at least `count` tasks sleep on this clock, so a test can advance time after a
    /// task has started waiting. Gives up after `maxYields` yields and returns `false`.
    @discardableResult
    public func waitForSleepers(_ count: Int = 1, maxYields: Int = 1_000_000) async -> Bool {
        for _ in 0..<maxYields {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }

    public func sleep(until deadline: Timestamp) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.now >= deadline || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
