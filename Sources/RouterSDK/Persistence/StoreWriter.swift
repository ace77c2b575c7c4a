internal import Logging
internal import Synchronization

/// The bounded, batched writer between the router's hot path and its ``StateStore``.
///
/// The router hands it records without waiting for I/O; one background task writes them in
/// batches: once woken it gathers for ``RouterConfiguration/Persistence/gatherDelay`` (records
/// arriving meanwhile cost one uncontended lock and wake nobody), then writes up to the batch
/// size. When the buffer is full, ``enqueue(_:)`` suspends until there is room: backpressure
/// instead of unbounded memory. A failed batch is retried after a delay, so records are not lost
/// while the store recovers; ``finish()`` flushes everything and reports what could not be written.
final class StoreWriter: Sendable {
    enum Record: Sendable {
        case usage(UsageEvent)
        case transition(KeyTransition)
        case decision(DecisionSample)
        case spend(SpendDelta)
    }

    private struct SpendKey: Hashable {
        var budget: BudgetID
        var periodStart: Timestamp
    }

    private struct State {
        var pending: [Record] = []
        var enqueued = 0
        var written = 0
        var finishing = false
        var lost = 0
        var drainWaiter: CheckedContinuation<Void, Never>?
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var flushWaiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    static let attemptsAfterShutdown = 5
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let store: any StateStore
    private let settings: RouterConfiguration.Persistence
    private let logger: Logger

    init(store: any StateStore, settings: RouterConfiguration.Persistence, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task.detached { [self] in await run() }
        }
    }

    /// Buffers a record; suspends only while the buffer is full. Returns `false` after ``finish()``.
    @discardableResult
    func enqueue(_ record: Record) async -> Bool {
        while true {
            enum Outcome { case added(CheckedContinuation<Void, Never>?), full, closed }
            let outcome: Outcome = state.withLock { state in
                if state.finishing { return .closed }
                guard state.pending.count < settings.bufferCapacity else { return .full }
                state.pending.append(record)
                state.enqueued += 1
                let waiter = state.drainWaiter
                state.drainWaiter = nil
                return .added(waiter)
            }
            switch outcome {
            case .added(let waiter):
                waiter?.resume()
                return true
            case .closed:
                return false
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.pending.count < settings.bufferCapacity || state.finishing { return true }
                        state.spaceWaiters.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// Waits until every record enqueued before the call has been written (or given up on).
    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.written + state.lost >= state.enqueued { return true }
                state.flushWaiters.append((state.enqueued, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Writes everything still buffered and stops. Returns how many records could not be written.
    func finish() async -> Int {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finishing = true
            defer { state.drainWaiter = nil }
            return state.drainWaiter
        }
        waiter?.resume()
        let running = task.withLock { $0 }
        await running?.value
        return state.withLock { $0.lost }
    }

    private func run() async {
        var failedAttempts = 0
        var failedWhileFinishing = 0
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.finishing { return true }
                    state.drainWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            // Let a burst accumulate: enqueues during this pause find no waiter to wake.
            let shouldGather = state.withLock { !$0.finishing && $0.pending.count < settings.batchSize }
            if shouldGather, settings.gatherDelay > .zero, failedAttempts == 0 {
                try? await Task.sleep(for: settings.gatherDelay)
            }
            let (records, finishing) = state.withLock { state -> ([Record], Bool) in
                (Array(state.pending.prefix(settings.batchSize)), state.finishing)
            }
            if records.isEmpty {
                if finishing { return }
                continue
            }
            var batch = StoreBatch()
            // Spend deltas of one batch are summed per (budget, period): one counter update each.
            var spendIndex: [SpendKey: Int] = [:]
            for record in records {
                switch record {
                case .usage(let event): batch.usage.append(event)
                case .transition(let transition): batch.transitions.append(transition)
                case .decision(let sample): batch.decisions.append(sample)
                case .spend(let delta):
                    let key = SpendKey(budget: delta.budgetID, periodStart: delta.periodStart)
                    if let index = spendIndex[key] {
                        batch.spend[index].amount += delta.amount
                    } else {
                        spendIndex[key] = batch.spend.count
                        batch.spend.append(delta)
                    }
                }
            }
            do {
                try await store.append(batch)
                failedAttempts = 0
                failedWhileFinishing = 0
                complete(records.count, lost: false)
            } catch {
                failedAttempts += 1
                if finishing { failedWhileFinishing += 1 }
                logger.error("state store write failed; will retry", metadata: ["records": "\(records.count)", "attempt": "\(failedAttempts)", "error": "\(error)"])
                // While running, retry for as long as it takes; once shutting down, a store that
                // fails several more times in a row is given up on so shutdown can finish.
                if finishing, failedWhileFinishing >= Self.attemptsAfterShutdown {
                    logger.critical("giving up on records the state store would not take", metadata: ["records": "\(records.count)"])
                    complete(records.count, lost: true)
                    continue
                }
                try? await Task.sleep(for: settings.retryDelay)
            }
        }
    }

    /// Removes written (or abandoned) records from the buffer and wakes whoever waited for it.
    private func complete(_ count: Int, lost: Bool) {
        let (space, flushed) = state.withLock { state -> ([CheckedContinuation<Void, Never>], [CheckedContinuation<Void, Never>]) in
            state.pending.removeFirst(count)
            if lost { state.lost += count } else { state.written += count }
            let space = state.spaceWaiters
            state.spaceWaiters = []
            let done = state.written + state.lost
            var flushed: [CheckedContinuation<Void, Never>] = []
            state.flushWaiters.removeAll { waiter in
                if waiter.target <= done {
                    flushed.append(waiter.continuation)
                    return true
                }
                return false
            }
            return (space, flushed)
        }
        space.forEach { $0.resume() }
        flushed.forEach { $0.resume() }
    }
}
