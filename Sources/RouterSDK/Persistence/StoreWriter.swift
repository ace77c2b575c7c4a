internal import CoreMetrics
internal import Logging
internal import Tracing

/// The bounded, batched writer between the router's hot path and its ``StateStore``.
///
/// The router hands it records without waiting for I/O; one loop writes them in batches, oldest
/// first. The loop runs inside ``run()`` when the router runs as a service (structured: it ends
/// with the service); a router nobody runs starts it on a task of its own at the first record, and
/// ``abandon()`` (the router's `deinit`) makes it write what is left and end. What a caller may
/// rely on:
///
/// - **Group commit.** In committed mode (``RouterConfiguration/Persistence/Acknowledgement``)
///   a settle waits in ``waitUntilWritten(_:)`` until the batch holding its record commits; every
///   record that arrived while the previous batch was being written shares the next transaction.
/// - **Exactly once.** Every batch carries a ``BatchID`` (this writer's random id and a sequence
///   number). A failed batch is retried *unchanged*, so a store that committed it but lost the
///   reply recognises it and does not apply it twice.
/// - **Never gives up while running.** A failing batch is retried with exponential backoff
///   (``RouterConfiguration/Persistence/retryDelay`` doubling up to `maxRetryDelay`) until the
///   store takes it. Health turns unavailable on the first failure and back on the next success.
/// - **Bounded memory, bounded waits.** At most `bufferCapacity` records wait. A full buffer
///   makes ``enqueue(_:)`` wait up to `enqueueTimeout` for room, then drop the records — counted,
///   logged and reported in ``StoreHealth/droppedRecords``, never silently. Committed-mode waits
///   end early when the store fails or a write takes longer than `commitWaitTimeout`.
/// - **Shutdown.** ``finish()`` writes what is buffered; once finishing, a store that keeps
///   failing is given up on after a few more attempts, and the records are reported as lost.
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

    private typealias Waiter = CheckedContinuation<Void, Never>

    /// Who runs the writing loop.
    private enum Runner {
        /// Nobody yet: the first record starts a task of its own unless ``run()`` came first.
        case idle
        /// ``run()``, inside the caller's task (the router's `Service.run`).
        case owned
        /// A task the writer started for a router that nobody runs.
        case detached
        /// The loop has ended.
        case stopped
    }

    private struct State {
        var pending: [Record] = []
        /// Records accepted so far; the n-th accepted record has sequence n.
        var enqueued = 0
        /// Records committed (a prefix of the accepted ones, in order).
        var written = 0
        /// Records given up on at shutdown or dropped when the buffer stayed full.
        var lost = 0
        var finishing = false
        var health: StoreHealth
        /// Set while the write in progress has run longer than `commitWaitTimeout`.
        var slowWrite = false
        var drainWaiter: Waiter?
        var spaceWaiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
        var flushWaiters: [(target: Int, continuation: Waiter)] = []
        var commitWaiters: [(target: Int, deadline: Timestamp, continuation: Waiter)] = []
        var backoff: Task<Void, Never>?
        var runner = Runner.idle
        var stopWaiters: [Waiter] = []

        /// Whether committed-mode callers should stop waiting for the store right now.
        var storeIsStruggling: Bool { !health.isAvailable || slowWrite }
    }

    static let attemptsAfterShutdown = 5
    /// This writer's identity in the store's batch log; random per router instance.
    let writerID: String
    private let state: Locked<State>
    private let healthObserver = Locked<(@Sendable (StoreHealth) -> Void)?>(nil)
    private let store: any StateStore
    private let settings: RouterConfiguration.Persistence
    private let clock: any RouterClock
    private let logger: Logger
    private let metrics: RouterMetrics
    /// Whether callers wait for commits (committed acknowledgements): only then is a slow write
    /// watched, so they can be released after `commitWaitTimeout`.
    private let watchesCommits: Bool

    private let tracing: RouterTracing?

    init(
        store: any StateStore, settings: RouterConfiguration.Persistence, watchesCommits: Bool, clock: any RouterClock, logger: Logger,
        metrics: RouterMetrics, tracing: RouterTracing? = nil
    ) {
        self.tracing = tracing
        self.watchesCommits = watchesCommits
        self.store = store
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.writerID = (0..<2).map { _ in String(UInt64.random(in: .min ... .max), radix: 16) }.joined(separator: "-")
        self.state = Locked(State(health: StoreHealth(isAvailable: true, since: clock.now(), bufferedRecords: 0, droppedRecords: 0, lastError: nil)))
    }

    /// Runs the writing loop in the caller's task until ``finish()`` or ``abandon()`` and the
    /// buffer is written. If the loop already runs (a record arrived before this call), waits
    /// for it to end instead.
    func run() async {
        let owns = state.withLock { state -> Bool in
            guard state.runner == .idle else { return false }
            state.runner = .owned
            return true
        }
        if owns { await writeLoop() } else { await waitUntilStopped() }
    }

    /// Tells the loop to write what is buffered and end, without waiting: the router's `deinit`.
    func abandon() {
        let (waiter, backoff) = beginFinishing()
        waiter?.resume()
        backoff?.cancel()
    }

    private func beginFinishing() -> (Waiter?, Task<Void, Never>?) {
        state.withLock { state in
            state.finishing = true
            if state.runner == .idle { state.runner = .stopped }
            defer { state.drainWaiter = nil }
            return (state.drainWaiter, state.backoff)
        }
    }

    private func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: Waiter) in
            let stopped = state.withLock { state -> Bool in
                if state.runner == .stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Called (from the writer's task) whenever the store becomes unavailable or recovers.
    func observeHealth(_ observer: @escaping @Sendable (StoreHealth) -> Void) {
        healthObserver.withLock { $0 = observer }
    }

    var health: StoreHealth {
        state.withLock { state in
            var health = state.health
            health.bufferedRecords = state.pending.count
            health.droppedRecords = state.lost
            return health
        }
    }

    // MARK: Producers

    /// What ``offer(_:)`` did with records.
    enum Offer {
        /// Buffered; the last record has this sequence number.
        case accepted(Int)
        /// Nothing to buffer.
        case empty
        /// The buffer has no room: ``enqueue(_:)`` them to wait for it.
        case full([Record])
        /// The writer has finished; the records were dropped (counted).
        case closed
    }

    /// Buffers records in order if there is room, without suspending: the settle path's fast way
    /// in (an `await` here would cost every request an async frame).
    func offer(_ records: [Record]) -> Offer {
        guard !records.isEmpty else { return .empty }
        enum Outcome { case added(Int, Waiter?, startsLoop: Bool), full, closed }
        let outcome: Outcome = state.withLock { state in
            if state.finishing { return .closed }
            guard state.pending.count + records.count <= max(settings.bufferCapacity, records.count) else { return .full }
            state.pending.append(contentsOf: records)
            state.enqueued += records.count
            let waiter = state.drainWaiter
            state.drainWaiter = nil
            let startsLoop = state.runner == .idle
            if startsLoop { state.runner = .detached }
            return .added(state.enqueued, waiter, startsLoop: startsLoop)
        }
        switch outcome {
        case .added(let sequence, let waiter, let startsLoop):
            waiter?.resume()
            // Nobody runs the router as a service: write from a task of our own. It holds only
            // the writer and ends after `finish()` or `abandon()`.
            if startsLoop { Task.detached { [self] in await writeLoop() } }
            return .accepted(sequence)
        case .closed:
            drop(records.count, why: "the router has shut down its store writer")
            return .closed
        case .full:
            return .full(records)
        }
    }

    /// Buffers records in order. Waits only while the buffer is full, at most `enqueueTimeout`;
    /// then drops them (counted). Returns the sequence number of the last record, or `nil` if the
    /// records were dropped or the writer has finished.
    func enqueue(_ records: [Record]) async -> Int? {
        let deadline = clock.now() + settings.enqueueTimeout
        while true {
            switch offer(records) {
            case .accepted(let sequence):
                return sequence
            case .empty, .closed:
                return nil
            case .full:
                guard clock.now() < deadline, await waitForSpace(until: deadline) else {
                    drop(records.count, why: "the store writer's buffer stayed full for \(settings.enqueueTimeout)")
                    return nil
                }
            }
        }
    }

    /// Waits until the record with `sequence` is committed — or until the store fails, a write
    /// runs past `commitWaitTimeout`, or this caller has waited that long behind a backlog (after
    /// an outage), so no caller hangs on the store.
    func waitUntilWritten(_ sequence: Int) async {
        let deadline = clock.now() + settings.commitWaitTimeout
        await withCheckedContinuation { (continuation: Waiter) in
            let resumeNow = state.withLock { state -> Bool in
                if state.written >= sequence || state.storeIsStruggling || state.finishing { return true }
                state.commitWaiters.append((sequence, deadline, continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Waits until every record accepted before the call has been written (or given up on).
    func flush() async {
        await withCheckedContinuation { (continuation: Waiter) in
            let done = state.withLock { state -> Bool in
                if state.written + state.lost >= state.enqueued { return true }
                state.flushWaiters.append((state.enqueued, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Writes everything still buffered and stops. Returns how many records were lost in all
    /// (dropped while running, or given up on at shutdown).
    func finish() async -> Int {
        abandon()
        await waitUntilStopped()
        releaseCommitWaiters()
        return state.withLock { $0.lost }
    }

    // MARK: The writing task

    private func writeLoop() async {
        defer {
            let waiters = state.withLock { state -> [Waiter] in
                state.runner = .stopped
                defer { state.stopWaiters.removeAll() }
                return state.stopWaiters
            }
            waiters.forEach { $0.resume() }
        }
        var sequence: Int64 = 1
        var failures = 0
        var failedWhileFinishing = 0
        var current: (records: Int, batch: StoreBatch)?
        while true {
            await withCheckedContinuation { (continuation: Waiter) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.finishing { return true }
                    state.drainWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            if current == nil {
                // Let a burst accumulate (fast mode only: in committed mode callers are waiting,
                // and what arrives during this batch's commit forms the next one anyway).
                let shouldGather = state.withLock { !$0.finishing && $0.pending.count < settings.batchSize }
                if shouldGather, settings.gatherDelay > .zero, failures == 0 {
                    try? await Task.sleep(for: settings.gatherDelay)
                }
                let (records, finishing) = state.withLock { state in (Array(state.pending.prefix(settings.batchSize)), state.finishing) }
                if records.isEmpty {
                    if finishing { return }
                    continue
                }
                current = (records.count, makeBatch(records, id: BatchID(writer: writerID, sequence: sequence)))
            }
            guard let (count, batch) = current else { continue }
            metrics.storeBuffered.record(state.withLock { $0.pending.count })
            switch await write(batch) {
            case .success:
                current = nil
                sequence += 1
                failures = 0
                failedWhileFinishing = 0
                complete(count)
            case .failure(let error):
                failures += 1
                let finishing = state.withLock { $0.finishing }
                if finishing { failedWhileFinishing += 1 }
                markUnavailable(error, records: count, attempt: failures)
                if finishing, failedWhileFinishing >= Self.attemptsAfterShutdown {
                    logger.critical("giving up on records the state store would not take at shutdown", metadata: ["records": "\(count)"])
                    current = nil
                    sequence += 1
                    complete(count, lost: true)
                    continue
                }
                if !finishing { await backOff(attempt: failures) }
            }
        }
    }

    /// Writes one batch inside a `routersdk.store.batch` span (a top-level one: the writer serves
    /// every request).
    private func write(_ batch: StoreBatch) async -> Result<Void, any Error> {
        guard let tracing else { return await writeUntraced(batch) }
        let span = tracing.startTopLevel("routersdk.store.batch")
        defer { span.end() }
        span.attributes["routersdk.records"] = batch.count
        if let id = batch.id { span.attributes["routersdk.batch_sequence"] = Int(id.sequence) }
        let result = await writeUntraced(batch)
        if case .failure(let error) = result { span.fail(error) }
        return result
    }

    /// Writes one batch, releasing committed-mode waiters if it runs past `commitWaitTimeout`.
    private func writeUntraced(_ batch: StoreBatch) async -> Result<Void, any Error> {
        guard watchesCommits else {
            do {
                try await store.append(batch)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        let store = self.store
        let clock = self.clock
        let timeout = settings.commitWaitTimeout
        enum Step: Sendable { case done(Result<Void, any Error>), slow }
        return await withTaskGroup(of: Step.self) { group in
            group.addTask {
                do {
                    try await store.append(batch)
                    return .done(.success(()))
                } catch {
                    return .done(.failure(error))
                }
            }
            group.addTask {
                do {
                    try await clock.sleep(until: clock.now() + timeout)
                } catch {}
                return .slow
            }
            var result: Result<Void, any Error>?
            while let step = await group.next() {
                switch step {
                case .done(let outcome):
                    result = outcome
                    group.cancelAll()
                case .slow:
                    // The timer also ends (cancelled) after the write is done: ignore it then.
                    if result == nil, state.withLock({ !$0.slowWrite && $0.health.isAvailable }) {
                        state.withLock { $0.slowWrite = true }
                        logger.warning("state store write is slow; settles stop waiting for it", metadata: ["timeout": "\(timeout)"])
                        releaseCommitWaiters()
                    }
                }
            }
            state.withLock { $0.slowWrite = false }
            return result ?? .failure(CancellationError())
        }
    }

    /// Sleeps before the next attempt on the router's clock; ``finish()`` cuts it short.
    private func backOff(attempt: Int) async {
        var delay = settings.retryDelay
        for _ in 1..<min(attempt, 30) where delay < settings.maxRetryDelay { delay *= 2 }
        delay = min(delay, settings.maxRetryDelay)
        let clock = self.clock
        let sleeper = Task { _ = try? await clock.sleep(until: clock.now() + delay) }
        let finishing = state.withLock { state -> Bool in
            state.backoff = sleeper
            return state.finishing
        }
        if finishing { sleeper.cancel() }
        await sleeper.value
        state.withLock { $0.backoff = nil }
    }

    private func makeBatch(_ records: [Record], id: BatchID) -> StoreBatch {
        var batch = StoreBatch(id: id)
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
        return batch
    }

    // MARK: Bookkeeping

    /// Removes written (or abandoned) records from the buffer and wakes whoever waited for it.
    private func complete(_ count: Int, lost: Bool = false) {
        let (space, flushed, committed, recovered) = state.withLock { state -> ([Waiter], [Waiter], [Waiter], StoreHealth?) in
            state.pending.removeFirst(count)
            if lost { state.lost += count } else { state.written += count }
            var recovered: StoreHealth?
            if !lost, !state.health.isAvailable {
                state.health.isAvailable = true
                state.health.since = clock.now()
                state.health.lastError = nil
                recovered = state.health
                recovered?.bufferedRecords = state.pending.count
                recovered?.droppedRecords = state.lost
            }
            let space = Array(state.spaceWaiters.values)
            state.spaceWaiters.removeAll()
            let done = state.written + state.lost
            var flushed: [Waiter] = []
            state.flushWaiters.removeAll { waiter in
                guard waiter.target <= done else { return false }
                flushed.append(waiter.continuation)
                return true
            }
            var committed: [Waiter] = []
            let now = clock.now()
            let written = state.written
            state.commitWaiters.removeAll { waiter in
                // Committed, given up on, or waited its `commitWaitTimeout` behind a backlog.
                guard waiter.target <= written || lost || waiter.deadline <= now else { return false }
                committed.append(waiter.continuation)
                return true
            }
            return (space, flushed, committed, recovered)
        }
        space.forEach { $0.resume() }
        flushed.forEach { $0.resume() }
        committed.forEach { $0.resume() }
        if lost { metrics.storeDropped.increment(by: count) }
        if let recovered {
            metrics.storeDegraded.record(0)
            logger.notice("state store is taking writes again; replaying the buffer", metadata: ["buffered": "\(recovered.bufferedRecords)"])
            healthObserver.withLock { $0 }?(recovered)
        }
    }

    private func markUnavailable(_ error: any Error, records: Int, attempt: Int) {
        let description = String(describing: error)
        let changed = state.withLock { state -> StoreHealth? in
            state.health.lastError = description
            guard state.health.isAvailable else { return nil }
            state.health.isAvailable = false
            state.health.since = clock.now()
            var health = state.health
            health.bufferedRecords = state.pending.count
            health.droppedRecords = state.lost
            return health
        }
        logger.error("state store write failed; will retry", metadata: ["records": "\(records)", "attempt": "\(attempt)", "error": "\(description)"])
        releaseCommitWaiters()
        if let changed {
            metrics.storeDegraded.record(1)
            healthObserver.withLock { $0 }?(changed)
        }
    }

    private func releaseCommitWaiters() {
        let waiters = state.withLock { state -> [Waiter] in
            defer { state.commitWaiters.removeAll() }
            return state.commitWaiters.map(\.continuation)
        }
        waiters.forEach { $0.resume() }
    }

    private func drop(_ count: Int, why: String) {
        state.withLock { $0.lost += count }
        metrics.storeDropped.increment(by: count)
        logger.error("dropping records the state store could not take", metadata: ["records": "\(count)", "reason": "\(why)"])
    }

    /// Waits for room in the buffer until `deadline` on the router's clock; `false` on timeout.
    private func waitForSpace(until deadline: Timestamp) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let clock = self.clock
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: Waiter) in
                        let resumeNow = state.withLock { state -> Bool in
                            if state.pending.count < settings.bufferCapacity || state.finishing || Task.isCancelled { return true }
                            state.spaceWaiters[id] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                    return !Task.isCancelled
                } onCancel: {
                    state.withLock { $0.spaceWaiters.removeValue(forKey: id) }?.resume()
                }
            }
            group.addTask {
                try? await clock.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

extension StoreWriter.Offer {
    /// Whether the records still have to be enqueued (the buffer was full).
    var needsEnqueue: Bool {
        if case .full = self { return true }
        return false
    }
}
