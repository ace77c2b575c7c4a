internal import CoreMetrics
internal import Instrumentation
public import Logging
internal import Tracing

/// How ``LLMRouter/execute(_:options:logger:operation:)`` retries.
public struct ExecuteOptions: Sendable, Hashable {
    /// The most keys tried for one request (≥ 1).
    public var maxAttempts: Int
    /// When every eligible key is cooling down, wait for the earliest cooldown (bounded by the
    /// request's deadline) instead of failing at once.
    public var waitForCooldown: Bool

    /// Creates options.
    public init(maxAttempts: Int = 3, waitForCooldown: Bool = false) {
        self.maxAttempts = maxAttempts
        self.waitForCooldown = waitForCooldown
    }
}

/// What an `execute` operation returns: its result and the usage to settle.
public struct Completion<Output> {
    /// The operation's result.
    public var output: Output
    /// The tokens the call used.
    public var usage: Usage

    /// Creates a completion.
    public init(_ output: Output, usage: Usage) {
        self.output = output
        self.usage = usage
    }
}

extension Completion: Sendable where Output: Sendable {}

extension LLMRouter {
    /// Routes, runs `operation` with the lease, and settles — failing over to another key when the
    /// operation throws a retryable ``ProviderFailure`` (or any ``ProviderFailureConvertible``
    /// error, such as ``ProviderError``).
    ///
    /// - Each failed attempt releases its lease with the failure (so the key is throttled,
    ///   exhausted, marked invalid or counted against its breaker) and the next attempt excludes
    ///   that key. A non-retryable failure (`rejected`, `cancelled`) is rethrown at once (the
    ///   original error). Tokens an error reports as already used (``PartialUsageCarrying``) are
    ///   charged with the release.
    /// - Bounded by ``ExecuteOptions/maxAttempts``, the request's ``RouteRequest/deadline``
    ///   (the running operation is cancelled and released as a timeout when it passes) and task
    ///   cancellation (the operation is cancelled and its lease released as `cancelled`).
    /// - With ``ExecuteOptions/waitForCooldown``, when no key is eligible but one will be, waits on
    ///   the router's clock until then (never past the deadline).
    /// - Any other error thrown by `operation` releases the lease as `rejected` and is rethrown.
    ///
    /// `logger`, if given, gets this call's log lines (the route, each failover, the settle or
    /// release) with its own metadata, such as a request id; the router's logger keeps the rest.
    ///
    /// - Throws: `attemptsExhausted` (with ``RouterError/lastFailure``), `deadlineExceeded`,
    ///   routing errors from ``route(_:logger:)``, `CancellationError`, or the operation's own errors.
    public nonisolated func execute<Output: Sendable>(
        _ request: RouteRequest,
        options: ExecuteOptions = ExecuteOptions(),
        logger: Logger? = nil,
        operation: @escaping @Sendable (Lease) async throws -> Completion<Output>
    ) async throws -> Output {
        try await executeSettled(request, options: options, logger: logger, operation: operation).output
    }

    /// ``execute(_:options:logger:operation:)`` that also returns the settled usage event and the
    /// number of attempts made.
    package nonisolated func executeSettled<Output: Sendable>(
        _ request: RouteRequest,
        options: ExecuteOptions,
        logger callLogger: Logger? = nil,
        operation: @escaping @Sendable (Lease) async throws -> Completion<Output>
    ) async throws -> (output: Output, event: UsageEvent, attempts: Int) {
        guard options.maxAttempts >= 1 else { throw RouterError(.invalidArgument, "maxAttempts must be at least 1") }
        var request = request
        var attempt = 0
        var lastFailure: ProviderFailure?
        while true {
            try Task.checkCancellation()
            if let deadline = request.deadline, clock.now() >= deadline {
                throw RouterError(.deadlineExceeded, "the request's deadline passed after \(attempt) attempt(s)", lastFailure: lastFailure)
            }
            let routed: Result<Lease, RouterError>
            do {
                routed = .success(try await lease(for: request, logger: callLogger))
            } catch {
                routed = .failure(error)
            }
            let lease: Lease
            switch routed {
            case .success(let value):
                lease = value
            case .failure(let error):
                guard error.code == .noEligibleKey else { throw error }
                if options.waitForCooldown, let retry = error.noEligibleKey?.earliestRetry {
                    if let deadline = request.deadline, retry > deadline {
                        throw RouterError(.deadlineExceeded, "no key becomes eligible before the deadline (earliest \(retry))", noEligibleKey: error.noEligibleKey, lastFailure: lastFailure)
                    }
                    try await clock.sleep(until: retry)
                    continue
                }
                guard let lastFailure else { throw error }
                throw RouterError(
                    .attemptsExhausted, "no further key to fail over to after \(attempt) attempt(s): \(error.message)",
                    model: error.model, noEligibleKey: error.noEligibleKey, lastFailure: lastFailure)
            }
            attempt += 1
            let failure: ProviderFailure
            let thrown: any Error
            do {
                let completion = try await traceAttempt(attempt, lease: lease) { try await run(operation, lease: lease, deadline: request.deadline) }
                let event = try await settle(lease, usage: completion.usage, logger: callLogger)
                return (completion.output, event, attempt)
            } catch let error as any ProviderFailureConvertible {
                failure = error.providerFailure
                thrown = error
            } catch is CancellationError {
                _ = try? await release(lease, failure: .cancelled, logger: callLogger)
                throw CancellationError()
            } catch let error as RouterError where error.code == .deadlineExceeded {
                _ = try? await release(lease, failure: .timeout, logger: callLogger)
                throw error
            } catch let error as RouterError where error.code == .leaseNotActive || error.code == .invalidArgument {
                throw error
            } catch {
                _ = try? await release(lease, failure: .rejected(status: 0, reason: "operation threw \(type(of: error))"), logger: callLogger)
                throw error
            }
            _ = try? await release(lease, failure: failure, usage: (thrown as? any PartialUsageCarrying)?.partialUsage, logger: callLogger)
            guard failure.isRetryable else { throw thrown }
            lastFailure = failure
            await recordFailover(Failover(from: lease.keyID, failure: failure, attempt: attempt, at: clock.now()), logger: callLogger)
            guard attempt < options.maxAttempts else {
                throw RouterError(.attemptsExhausted, "all \(attempt) attempt(s) failed; last: \(failure)", keyID: lease.keyID, lastFailure: failure)
            }
            request.excludedKeys.insert(lease.keyID)
        }
    }

    /// Runs one provider attempt inside a `routersdk.attempt` client span, so the call — and a
    /// `ChatClient` request's trace headers — carry its context.
    package nonisolated func traceAttempt<T>(_ attempt: Int, lease: Lease, _ body: () async throws -> T) async throws -> T {
        guard let tracing else { return try await body() }
        let span = tracing.start("routersdk.attempt", kind: .client)
        defer { span.end() }
        span.attributes["routersdk.attempt"] = attempt
        span.attributes["routersdk.key"] = lease.keyID.rawValue
        span.attributes["routersdk.model"] = lease.model.description
        do {
            return try await ServiceContext.$current.withValue(span.context) { try await body() }
        } catch {
            span.fail(error)
            throw error
        }
    }

    /// Runs the operation, racing it against the deadline on the router's clock when there is one.
    private nonisolated func run<Output: Sendable>(
        _ operation: @escaping @Sendable (Lease) async throws -> Completion<Output>, lease: Lease, deadline: Timestamp?
    ) async throws -> Completion<Output> {
        guard let deadline else { return try await operation(lease) }
        guard let completion = try await clock.run(until: deadline, { try await operation(lease) }) else {
            throw RouterError(.deadlineExceeded, "the request's deadline passed during the call to \(lease.keyID)", keyID: lease.keyID)
        }
        return completion
    }

    private func recordFailover(_ failover: Failover, logger callLogger: Logger?) {
        metrics.failovers.increment()
        (callLogger ?? logger).info("failing over", metadata: ["from": "\(failover.from)", "failure": "\(failover.failure.label)", "attempt": "\(failover.attempt)"])
        emit(.failover(failover))
    }
}

extension LLMRouter {
    /// Routes `request`, runs `body` with the lease, and settles or releases the lease exactly
    /// once however `body` ends — the scoped way to use a lease, so none is ever leaked.
    ///
    /// - `body` returns a ``Completion``: its usage is settled and its output returned.
    /// - `body` throws: the lease is released with the failure the error stands for (a
    ///   ``ProviderFailureConvertible`` error's own, `cancelled` for `CancellationError`,
    ///   `timeout` for `deadlineExceeded`, otherwise `rejected`), charging any
    ///   ``PartialUsageCarrying`` usage, and the error is rethrown unchanged.
    ///
    /// One attempt, no failover: use ``execute(_:options:logger:operation:)`` for that.
    ///
    /// - Throws: routing errors from ``route(_:logger:)``, `body`'s own errors, or `invalidArgument`
    ///   from the settle when the usage is impossible (the lease is consumed all the same).
    public nonisolated(nonsending) func withLease<Output>(
        _ request: RouteRequest,
        logger: Logger? = nil,
        _ body: (Lease) async throws -> Completion<Output>
    ) async throws -> Output {
        let lease = try await route(request, logger: logger)
        let completion: Completion<Output>
        do {
            completion = try await body(lease)
        } catch {
            _ = try? await release(lease, failure: Self.failure(representing: error), usage: (error as? any PartialUsageCarrying)?.partialUsage, logger: logger)
            throw error
        }
        try await settle(lease, usage: completion.usage, logger: logger)
        return completion.output
    }

    /// The failure a lease is released with when its call threw `error`.
    static func failure(representing error: any Error) -> ProviderFailure {
        switch error {
        case let error as any ProviderFailureConvertible: error.providerFailure
        case is CancellationError: .cancelled
        case let error as RouterError where error.code == .deadlineExceeded: .timeout
        default: .rejected(status: 0, reason: "operation threw \(type(of: error))")
        }
    }
}
