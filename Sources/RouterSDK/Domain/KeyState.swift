/// Where a key stands. Changes are audited ``KeyTransition``s.
///
/// Allowed transitions:
/// - `available` → any other state.
/// - `throttled` → `available` (cooldown over), `throttled` (extended: the later deadline wins),
///   `exhausted`, `disabled`, `invalid`.
/// - `exhausted` → `available` (quota reset), `exhausted` (extended), `disabled`, `invalid`.
///   A rate limit while exhausted keeps it exhausted until the later of the two deadlines.
/// - `disabled` → `available` only (an operator enables it); failures of requests that were in
///   flight when it was disabled do not change it.
/// - `invalid` → `available` only by rotating the secret; `disabled` by an operator.
public enum KeyState: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Can be chosen.
    case available
    /// Rate-limited by the provider until the deadline.
    case throttled(until: Timestamp)
    /// Out of quota until the deadline (billing or daily quota reset).
    case exhausted(until: Timestamp)
    /// Turned off by an operator.
    case disabled(reason: String)
    /// The provider rejected the credential; rotate the secret to use the key again.
    case invalid

    /// The state's name without its payload: `available`, `throttled`, ...
    public var name: String {
        switch self {
        case .available: "available"
        case .throttled: "throttled"
        case .exhausted: "exhausted"
        case .disabled: "disabled"
        case .invalid: "invalid"
        }
    }

    /// The cooldown deadline of a throttled or exhausted key.
    public var cooldownDeadline: Timestamp? {
        switch self {
        case .throttled(let until), .exhausted(let until): until
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .available: "available"
        case .throttled(let until): "throttled(until: \(until))"
        case .exhausted(let until): "exhausted(until: \(until))"
        case .disabled(let reason): "disabled(\(reason))"
        case .invalid: "invalid"
        }
    }
}

/// Why a key changed state.
public enum TransitionReason: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The provider answered 429 / rate limited.
    case rateLimited
    /// The provider reported quota or billing exhausted.
    case quotaExhausted
    /// The provider rejected the credential.
    case authInvalid
    /// The cooldown deadline passed.
    case cooldownElapsed
    /// An operator disabled the key.
    case operatorDisabled
    /// An operator enabled the key.
    case operatorEnabled
    /// The secret was rotated.
    case secretRotated
    /// The key was registered.
    case registered
    /// The key was removed.
    case removed
    /// State restored from a store.
    case restored

    public var description: String { rawValue }
}

/// One audited change of a key's state.
public struct KeyTransition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The key.
    public var keyID: KeyID
    /// The state before.
    public var from: KeyState
    /// The state after.
    public var to: KeyState
    /// Why it changed.
    public var reason: TransitionReason
    /// Free-form detail (an operator's note, a status code); never contains secrets.
    public var detail: String?
    /// When it changed.
    public var at: Timestamp

    /// Creates a transition record.
    public init(keyID: KeyID, from: KeyState, to: KeyState, reason: TransitionReason, detail: String? = nil, at: Timestamp) {
        self.keyID = keyID
        self.from = from
        self.to = to
        self.reason = reason
        self.detail = detail
        self.at = at
    }

    public var description: String {
        "\(keyID): \(from) → \(to) (\(reason)\(detail.map { ": \($0)" } ?? "")) at \(at)"
    }
}
