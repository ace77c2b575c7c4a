public import RouterSDK

/// How a simulated key behaves.
public struct SimulatedBehavior: Sendable, Hashable {
    /// Simulated call latency range (uniformly drawn).
    public var latency: ClosedRange<Duration>
    /// Every `rateLimitEvery`-th call starts a burst of 429s (`nil`: never).
    public var rateLimitEvery: Int?
    /// How many consecutive calls a burst rejects.
    public var rateLimitBurst: Int
    /// The `Retry-After` a 429 carries (`nil`: none, so the router backs off exponentially).
    public var retryAfter: Duration?
    /// Every call fails with 401.
    public var invalidCredential: Bool
    /// Parts per million of calls that fail with a 500.
    public var serverErrorPPM: Int
    /// Output tokens per response (capped by the request's max output tokens).
    public var outputTokens: Int

    /// Creates a behaviour.
    public init(
        latency: ClosedRange<Duration> = .zero ... .zero, rateLimitEvery: Int? = nil, rateLimitBurst: Int = 1,
        retryAfter: Duration? = nil, invalidCredential: Bool = false, serverErrorPPM: Int = 0, outputTokens: Int = 200
    ) {
        self.latency = latency
        self.rateLimitEvery = rateLimitEvery
        self.rateLimitBurst = rateLimitBurst
        self.retryAfter = retryAfter
        self.invalidCredential = invalidCredential
        self.serverErrorPPM = serverErrorPPM
        self.outputTokens = outputTokens
    }
}

/// An in-process stand-in for provider APIs, scriptable per key: latency, 429 bursts with
/// `Retry-After`, invalid credentials, server errors. Used by the Quickstart and by tests of
/// `LLMRouter.execute`; it never touches the network.
///
/// It recognises keys by their secret (as a real provider would) and throws ``ProviderFailure``s
/// exactly as a provider adapter classifies real HTTP errors.
public final class SimulatedProvider: Sendable {
    private struct State {
        var behaviors: [String: SimulatedBehavior] = [:]
        var calls: [String: Int] = [:]
        var burstRemaining: [String: Int] = [:]
        var random: SplitMix64
    }

    private let state: Locked<State>
    private let sleep: @Sendable (Duration) async throws -> Void

    /// Creates a simulator. `sleep` performs simulated latency (real `Task.sleep` by default; pass
    /// a no-op in tests).
    public init(seed: UInt64 = 42, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        state = Locked(State(random: SplitMix64(seed: seed)))
        self.sleep = sleep
    }

    /// Sets the behaviour of the key with `secret`.
    public func setBehavior(_ behavior: SimulatedBehavior, forSecret secret: Secret) {
        state.withLock { $0.behaviors[secret.plaintext] = behavior }
    }

    /// Calls made with the key holding `secret`.
    public func calls(forSecret secret: Secret) -> Int {
        state.withLock { $0.calls[secret.plaintext, default: 0] }
    }

    /// Simulates a chat completion with the lease's key.
    ///
    /// - Returns: A short text and the usage: `inputTokens` in, the behaviour's output tokens out.
    /// - Throws: ``ProviderFailure`` as the behaviour dictates.
    public func complete(_ lease: Lease, inputTokens: Int, maxOutputTokens: Int) async throws -> Completion<String> {
        enum Verdict { case ok(Duration, Int), rateLimited(Duration, Duration?), invalid, serverError(Duration) }
        let verdict: Verdict = state.withLock { state in
            let key = lease.secret.plaintext
            let behavior = state.behaviors[key] ?? SimulatedBehavior()
            state.calls[key, default: 0] += 1
            let latency = Self.draw(behavior.latency, &state.random)
            if behavior.invalidCredential { return .invalid }
            if let every = behavior.rateLimitEvery, state.calls[key]! % every == 0 {
                state.burstRemaining[key] = behavior.rateLimitBurst
            }
            if let remaining = state.burstRemaining[key], remaining > 0 {
                state.burstRemaining[key] = remaining - 1
                return .rateLimited(latency, behavior.retryAfter)
            }
            if behavior.serverErrorPPM > 0, Int(state.random.next() % 1_000_000) < behavior.serverErrorPPM {
                return .serverError(latency)
            }
            return .ok(latency, min(behavior.outputTokens, maxOutputTokens))
        }
        switch verdict {
        case .invalid:
            throw ProviderFailure.authInvalid
        case .rateLimited(let latency, let retryAfter):
            if latency > .zero { try await sleep(latency) }
            throw ProviderFailure.rateLimited(retryAfter: retryAfter)
        case .serverError(let latency):
            if latency > .zero { try await sleep(latency) }
            throw ProviderFailure.serverError(status: 500)
        case .ok(let latency, let output):
            if latency > .zero { try await sleep(latency) }
            return Completion(
                "simulated answer from \(lease.model) via \(lease.keyID)",
                usage: Usage(inputTokens: inputTokens, outputTokens: output, latency: latency))
        }
    }

    private static func draw(_ range: ClosedRange<Duration>, _ random: inout SplitMix64) -> Duration {
        let low = range.lowerBound.components
        let lowNanos = low.seconds * 1_000_000_000 + low.attoseconds / 1_000_000_000
        let high = range.upperBound.components
        let highNanos = high.seconds * 1_000_000_000 + high.attoseconds / 1_000_000_000
        guard highNanos > lowNanos else { return .nanoseconds(lowNanos) }
        return .nanoseconds(lowNanos + Int64(random.next() % UInt64(highNanos - lowNanos + 1)))
    }
}
