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
///
/// Frozen: these five states are the key state machine documented above; adding one would change the machine, which only a major version does.
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
///
/// Extensible: a struct of named constants (like ``RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
public struct TransitionReason: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The stable name, as logged, exported in metrics and stored.
    public var rawValue: String

    /// Wraps a name; values this version does not define compare unequal to every constant.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The provider answered 429 / rate limited.
    public static let rateLimited = TransitionReason(rawValue: "rateLimited")
    /// The provider reported quota or billing exhausted.
    public static let quotaExhausted = TransitionReason(rawValue: "quotaExhausted")
    /// The provider rejected the credential.
    public static let authInvalid = TransitionReason(rawValue: "authInvalid")
    /// The cooldown deadline passed.
    public static let cooldownElapsed = TransitionReason(rawValue: "cooldownElapsed")
    /// An operator disabled the key.
    public static let operatorDisabled = TransitionReason(rawValue: "operatorDisabled")
    /// An operator enabled the key.
    public static let operatorEnabled = TransitionReason(rawValue: "operatorEnabled")
    /// The secret was rotated.
    public static let secretRotated = TransitionReason(rawValue: "secretRotated")
    /// The key was registered.
    public static let registered = TransitionReason(rawValue: "registered")
    /// The key was removed.
    public static let removed = TransitionReason(rawValue: "removed")
    /// State restored from a store.
    public static let restored = TransitionReason(rawValue: "restored")
    /// Another instance of the fleet changed it (``FleetBudgets/keySyncInterval``): this
    /// instance follows. Not written to the store, which has the original.
    public static let fleetSync = TransitionReason(rawValue: "fleetSync")

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
