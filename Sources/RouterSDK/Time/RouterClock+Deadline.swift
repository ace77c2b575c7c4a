extension RouterClock {
    /// Runs `operation` until `deadline` on this clock: its result, or `nil` when the deadline
    /// came first. Either way the operation has finished when this returns — on the deadline it
    /// is cancelled and awaited, so whatever it does on cancellation (releasing a lease,
    /// charging the tokens it used) is done first. `execute` and `ChatClient`'s streams share it.
    ///
    /// - Throws: the operation's error, or `CancellationError` when the calling task is cancelled.
    package func run<T: Sendable>(until deadline: Timestamp, _ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            if first == nil {
                group.cancelAll()
                // The operation's own ending (an error, most likely CancellationError) is not
                // the caller's: the deadline is.
                _ = try? await group.next()
            }
            return first
        }
    }
}
