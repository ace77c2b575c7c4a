public import Logging
public import RouterSDK

/// Sends chat requests to the providers through a ``RouterSDK/LLMRouter``'s pool of keys: routes, encodes
/// the request in the provider's wire format, calls it over a ``Transport``, decodes the answer,
/// settles the real usage and cost, fails over across keys on retryable errors, and moves down a
/// fallback chain of models when a model cannot serve the request.
///
/// ```swift
/// let client = ChatClient(router: router, transport: HTTPClientTransport.shared)
/// let reply = try await client.chat(ChatRequest(model: "gpt-4o-mini", messages: [.user("Hello")]))
/// print(reply.text, reply.usage, reply.cost)
/// ```
///
/// - Failover: a retryable ``RouterSDK/ProviderError`` (rate limited, quota, auth, overloaded/5xx,
///   timeout, connection, malformed answer) releases the key with its failure (throttling,
///   exhausting or invalidating it) and the next key is tried, up to
///   ``Configuration/maxAttemptsPerModel`` per model.
/// - Fallback: model not found, content policy, context too long (then only models with a larger
///   context window), no eligible key, or every key failing moves to the next model of
///   ``ChatRequest/fallbacks`` (or ``Configuration/fallbacks``).
/// - Bounded by ``ChatRequest/deadline`` on the router's clock (no attempt starts after it; a
///   call or stream still running when it passes is cancelled); cancelling the calling task
///   cancels the HTTP request.
/// - Rate-limit headers of every answer go to ``RouterSDK/LLMRouter/observe(_:for:)``.
public struct ChatClient: Sendable {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// Fallback models for requests that name none.
        public var fallbacks: [String]
        /// Keys tried per model before moving down the fallback chain (≥ 1).
        public var maxAttemptsPerModel: Int
        /// Output tokens reserved and requested when a request sets no ``ChatRequest/maxTokens``.
        public var defaultMaxTokens: Int
        /// The largest response body read (bytes); larger answers are `responseTooLarge`.
        public var maxResponseBytes: Int
        /// How long one HTTP call may take.
        public var requestTimeout: Duration
        /// When every key is cooling down, wait for the first to come back (within the deadline).
        public var waitForCooldown: Bool

        /// Creates a configuration.
        public init(
            fallbacks: [String] = [], maxAttemptsPerModel: Int = 3, defaultMaxTokens: Int = 1_024,
            maxResponseBytes: Int = 8 << 20, requestTimeout: Duration = .seconds(120), waitForCooldown: Bool = false
        ) {
            self.fallbacks = fallbacks
            self.maxAttemptsPerModel = maxAttemptsPerModel
            self.defaultMaxTokens = defaultMaxTokens
            self.maxResponseBytes = maxResponseBytes
            self.requestTimeout = requestTimeout
            self.waitForCooldown = waitForCooldown
        }
    }

    /// The router whose keys, limits and budgets apply.
    public let router: LLMRouter
    /// How requests are sent.
    public let transport: any Transport
    /// Settings.
    public var configuration: Configuration

    /// Creates a client.
    public init(router: LLMRouter, transport: any Transport, configuration: Configuration = Configuration()) {
        self.router = router
        self.transport = transport
        self.configuration = configuration
    }

    // MARK: Complete answers

    /// Sends `request` and returns the whole answer.
    ///
    /// - Throws: ``RouterSDK/RouterError``, always: `providerFailed` with the provider's classified error
    ///   in ``RouterSDK/RouterError/providerError`` (the last one when no key or fallback is left),
    ///   `noEligibleKey`, `attemptsExhausted`, `budgetExceeded`, `deadlineExceeded`,
    ///   `invalidArgument`, `unknownModel`, and `cancelled` when the calling task is cancelled.
    ///
    /// `logger`, if given, gets this call's log lines — route, failovers, settle or release —
    /// with its metadata (a request id, say); the router's own logger keeps the rest.
    public func chat(_ request: ChatRequest, logger: Logger? = nil) async throws -> ChatResponse {
        do {
            return try await chatOverChain(request, logger)
        } catch {
            throw Self.routerError(error)
        }
    }

    /// The one error type ``chat(_:logger:)`` and ``stream(_:logger:)`` throw, whatever failed underneath.
    static func routerError(_ error: any Error) -> RouterError {
        switch error {
        case let error as RouterError:
            error
        case let error as ProviderError:
            RouterError(.providerFailed, error.description, keyID: error.keyID, model: error.model?.description, providerError: error)
        case is CancellationError:
            RouterError(.cancelled, "the calling task was cancelled")
        default:
            RouterError(.providerFailed, "\(error)")
        }
    }

    private func chatOverChain(_ request: ChatRequest, _ logger: Logger?) async throws -> ChatResponse {
        var plan = try Plan(request, configuration: configuration, router: router)
        let attempts = Counter()
        let client = self
        return try await plan.overChain { plan, _, route in
            let result: (output: DecodedReply, event: UsageEvent, attempts: Int)
            do {
                result = try await router.executeSettled(
                    route, options: ExecuteOptions(maxAttempts: configuration.maxAttemptsPerModel, waitForCooldown: configuration.waitForCooldown),
                    logger: logger
                ) { lease in
                    attempts.increment()
                    do {
                        return try await client.call(lease: lease, plan: plan)
                    } catch let error as ProviderError {
                        attempts.record(error)
                        throw error
                    }
                }
            } catch let error as RouterError where error.code == .attemptsExhausted {
                // When keys ran out after provider failures, the last provider error says more
                // than "attempts exhausted" (and the chain carries it on to later models).
                throw attempts.lastError ?? error
            }
            let reply = result.output
            return ChatResponse(
                text: reply.text, toolCalls: reply.toolCalls, finishReason: reply.finishReason, usage: reply.usage,
                cost: result.event.cost, model: result.event.model, keyID: result.event.keyID, attempts: attempts.value)
        }
    }

    /// One call with one lease: the operation `execute` runs.
    private func call(lease: Lease, plan: Plan) async throws -> Completion<DecodedReply> {
        let (adapter, httpRequest) = try plan.httpRequest(for: lease, stream: false)
        let started = ContinuousClock.now
        let response = try await send(httpRequest, lease: lease)
        await observe(adapter.rateLimits(from: response.headers), lease)
        let body: [UInt8]
        do {
            body = try await response.collect(limit: configuration.maxResponseBytes)
        } catch let error as ProviderError {
            throw plan.attributed(error, lease)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw plan.attributed(ProviderError(.connection, status: response.status, message: "the response body broke off: \(error)"), lease)
        }
        guard (200..<300).contains(response.status) else {
            throw plan.attributed(adapter.classify(status: response.status, headers: response.headers, body: body), lease)
        }
        do {
            var reply = try adapter.decodeReply(body)
            reply.usage = Plausible.usage(
                input: reply.usage.inputTokens, output: reply.usage.outputTokens, estimatedInput: plan.estimatedInput, text: reply.text, toolCalls: reply.toolCalls)
            reply.usage.latency = ContinuousClock.now - started
            return Completion(reply, usage: reply.usage)
        } catch {
            throw plan.attributed(error, lease)
        }
    }

    /// Hands what the rate-limit headers say to the router when they say a key has nothing left.
    private func observe(_ limits: ProviderRateLimits, _ lease: Lease) async {
        guard limits.exhaustedFor != nil else { return }
        try? await router.observe(limits, for: lease.keyID)
    }

    /// Sends, turning transport failures into provider errors that fail over.
    private func send(_ request: TransportRequest, lease: Lease) async throws -> TransportResponse {
        var request = request
        router.tracing?.inject(into: &request.headers)
        do {
            return try await transport.send(request)
        } catch let error as TransportError {
            let kind: ProviderError.Kind = error.kind == .timeout ? .timeout : .connection
            throw ProviderError(kind, message: error.message, model: lease.model, keyID: lease.keyID)
        }
    }

    // MARK: Streams

    /// Sends `request` and streams the answer as it is generated.
    ///
    /// The stream starts with ``ChatStreamEvent/started(model:keyID:)``, carries text and whole
    /// tool calls, and ends with ``ChatStreamEvent/finished(_:usage:cost:)`` once the usage is
    /// settled. Failover and fallback happen only before the first byte of an answer; a stream
    /// that breaks later ends with an error after the tokens it used are charged. Ending
    /// iteration early (or cancelling the consuming task) cancels the HTTP request and releases
    /// the lease, charging the tokens used so far.
    ///
    /// The stream throws ``RouterSDK/RouterError`` only, as ``chat(_:logger:)`` does.
    public func stream(_ request: ChatRequest, logger: Logger? = nil) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
        let task = Task {
            do {
                try await runStream(request, logger, continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.routerError(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func runStream(_ request: ChatRequest, _ logger: Logger?, _ output: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation) async throws {
        var plan = try Plan(request, configuration: configuration, router: router)
        // Not `execute`'s attempt loop: a stream fails over only before its first content, and
        // settles itself (charging what it used when cancelled or cut off by the deadline).
        try await plan.overChain { plan, model, route in
            var route = route
            var attempt = 0
            var lastFailure: ProviderError?
            while attempt < configuration.maxAttemptsPerModel {
                try Task.checkCancellation()
                if let deadline = request.deadline, router.clock.now() >= deadline {
                    throw RouterError(.deadlineExceeded, "the request's deadline passed after \(attempt) attempt(s) on \(model)", lastFailure: lastFailure?.failure)
                }
                let lease: Lease
                do {
                    lease = try await router.lease(for: route, logger: logger)
                } catch {
                    // No other key after provider failures: the last provider error says more
                    // (as `chat` reports it).
                    if let lastFailure, (error as? RouterError)?.code == .noEligibleKey { throw lastFailure }
                    throw error
                }
                attempt += 1
                do {
                    try await router.traceAttempt(attempt, lease: lease) { try await streamOnce(lease: lease, plan: plan, deadline: request.deadline, logger, output) }
                    return
                } catch let error as ProviderError where error.failure.isRetryable && !error.streamStarted {
                    lastFailure = error
                    route.excludedKeys.insert(lease.keyID)
                }
            }
            throw lastFailure ?? RouterError(.noEligibleKey, "no attempt was made on \(model)")
        }
    }

    /// Streams one call, racing it against the deadline on the router's clock: when the deadline
    /// passes first the call is cancelled (its lease released, what it used charged) and the
    /// stream ends with `deadlineExceeded`.
    private func streamOnce(
        lease: Lease, plan: Plan, deadline: Timestamp?, _ logger: Logger?, _ output: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation
    ) async throws {
        guard let deadline else { return try await streamOnce(lease: lease, plan: plan, logger, output) }
        // On the deadline the call is cancelled and awaited: it releases its lease first.
        let finished = try await router.clock.run(until: deadline) { () async throws -> Bool in
            try await streamOnce(lease: lease, plan: plan, logger, output)
            return true
        }
        guard finished != nil else {
            throw RouterError(.deadlineExceeded, "the request's deadline passed during the stream from \(lease.keyID)", keyID: lease.keyID)
        }
    }

    /// Streams one call on one lease, settling or releasing it exactly once.
    private func streamOnce(
        lease: Lease, plan: Plan, _ logger: Logger?, _ output: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation
    ) async throws {
        var progress = StreamProgress(estimatedInput: plan.estimatedInput)
        var settled = false
        do {
            let (adapter, httpRequest) = try plan.httpRequest(for: lease, stream: true)
            let started = ContinuousClock.now
            let response = try await send(httpRequest, lease: lease)
            await observe(adapter.rateLimits(from: response.headers), lease)
            guard (200..<300).contains(response.status) else {
                let body = try await response.collect(limit: configuration.maxResponseBytes)
                throw adapter.classify(status: response.status, headers: response.headers, body: body)
            }
            output.yield(.started(model: lease.model, keyID: lease.keyID))
            progress.started = true
            if Self.isCompleteJSON(response.headers) {
                // A server that ignores `stream` (some compatible servers, some proxies) answers
                // with one complete body: decode it as the reply it is — unless it is events
                // mislabelled as JSON, which are read as events.
                let body = try await response.collect(limit: configuration.maxResponseBytes)
                if body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
                    for piece in try adapter.pieces(ofReply: body) { _ = progress.apply(piece, to: output) }
                } else {
                    try await readEvents(of: TransportResponse(status: response.status, headers: response.headers, body: body), with: adapter, into: &progress, output)
                }
            } else {
                try await readEvents(of: response, with: adapter, into: &progress, output)
            }
            try Task.checkCancellation()
            guard progress.ended else {
                throw ProviderError(.malformedResponse, status: response.status, message: "the stream ended before its final event (truncated)")
            }
            var usage = progress.usage
            usage.latency = ContinuousClock.now - started
            settled = true
            let event = try await router.settle(lease, usage: usage, logger: logger)
            output.yield(.finished(progress.finishReason ?? .other, usage: usage, cost: event.cost))
        } catch is CancellationError {
            _ = try? await router.release(lease, failure: .cancelled, usage: progress.started ? progress.usage : nil, logger: logger)
            throw CancellationError()
        } catch let error as RouterError {
            // Before the settle (no provider info for the lease's provider) the lease is still
            // held; after it, the settle itself failed and the lease is no longer active.
            if !settled { _ = try? await router.release(lease, failure: .rejected(status: 0, reason: error.code.description), logger: logger) }
            throw error
        } catch {
            var failure = error as? ProviderError ?? ProviderError(.connection, message: "the stream broke off: \(error)")
            failure = plan.attributed(failure, lease)
            failure.streamStarted = progress.started && progress.yieldedContent
            failure.partialUsage = progress.started ? progress.usage : nil
            _ = try? await router.release(lease, failure: failure.failure, usage: failure.partialUsage, logger: logger)
            throw failure
        }
    }
}

extension ChatClient {
    /// Whether a response to a stream request is one complete JSON body rather than events.
    static func isCompleteJSON(_ headers: [String: String]) -> Bool {
        guard let type = headers["content-type"]?.lowercased() else { return false }
        return type.hasPrefix("application/json")
    }

    /// Parses a `text/event-stream` body and applies each event's pieces as it completes, until
    /// the terminal event (later bytes are not read) or the end of the body. Pieces held back
    /// for the end (tool calls still being assembled) are applied when the terminal event came.
    private func readEvents(
        of response: TransportResponse, with adapter: any ProviderAdapter, into progress: inout StreamProgress,
        _ output: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation
    ) async throws {
        var parser = ServerSentEventParser(maxLineBytes: configuration.maxResponseBytes)
        var decoder = adapter.makeStreamDecoder()
        var pieces: [StreamPiece] = []
        pieces.reserveCapacity(4)
        var received = 0
        for try await chunk in response.body {
            received += chunk.count
            guard received <= configuration.maxResponseBytes else {
                throw ProviderError(.responseTooLarge, status: response.status, message: "the stream passed the \(configuration.maxResponseBytes)-byte limit")
            }
            try parser.feed(chunk) { event throws(ProviderError) in
                guard !progress.ended else { return }  // nothing after the terminal event counts
                try decoder.decode(event, into: &pieces)
                for piece in pieces where !progress.ended { _ = progress.apply(piece, to: output) }
                pieces.removeAll(keepingCapacity: true)
            }
            if progress.ended { break }
        }
        if progress.ended {
            decoder.finish(into: &pieces)
            for piece in pieces { _ = progress.apply(piece, to: output) }
        }
    }
}

/// What a stream has produced so far.
private struct StreamProgress {
    let estimatedInput: Int
    var started = false
    var yieldedContent = false
    var ended = false
    var finishReason: FinishReason?
    var reportedInput: Int?
    var reportedOutput: Int?
    var text = ""
    var toolCalls: [ToolCall] = []

    init(estimatedInput: Int) { self.estimatedInput = estimatedInput }

    /// The usage to charge: what the provider reported, else (or where the report is
    /// impossible) the estimate: the input estimate, and the text received so far for output.
    var usage: Usage {
        Plausible.usage(input: reportedInput, output: reportedOutput, estimatedInput: estimatedInput, text: text, toolCalls: toolCalls)
    }

    /// Applies a piece; returns `true` once the stream's terminal event arrived.
    mutating func apply(_ piece: StreamPiece, to output: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation) -> Bool {
        switch piece {
        case .text(let fragment):
            text += fragment
            yieldedContent = true
            output.yield(.text(fragment))
        case .toolCall(let call):
            yieldedContent = true
            toolCalls.append(call)
            output.yield(.toolCall(call))
        case .finish(let reason):
            finishReason = reason
        case .usage(let input, let output):
            if let input { reportedInput = input }
            if let output { reportedOutput = output }
        case .end:
            ended = true
            return true
        }
        return false
    }
}

/// Counts attempts across the `@Sendable` operations of one request, and keeps the last
/// provider error they threw.
private final class Counter: Sendable {
    private let state = Locked<(count: Int, last: ProviderError?)>((0, nil))
    func increment() { state.withLock { $0.count += 1 } }
    func record(_ error: ProviderError) { state.withLock { $0.last = error } }
    var value: Int { state.withLock { $0.count } }
    var lastError: ProviderError? { state.withLock { $0.last } }
}
