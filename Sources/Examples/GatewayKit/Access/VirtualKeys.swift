public import RouterSDK
internal import Foundation
internal import HTTPTypes

/// The gateway's virtual keys, kept in the ``RouterSDK/StateStore`` as one shared record so
/// every gateway instance on that store sees the same keys.
///
/// Authentication parses the key's id out of the token, finds the key (reading the store again
/// when an id is unknown, at most once a second, so a key made on another instance works at
/// once) and compares the token's fingerprint in constant time. Changes made on another
/// instance — a disabled, rotated or removed key — take effect here within
/// ``refreshInterval``. Tokens are never stored, logged or listed.
public actor VirtualKeys {
    /// Why a token was refused.
    ///
    /// Frozen: these are the outcomes of checking a bearer token (who, enabled, within rate);
    /// another reason would be a new kind of check, a major version.
    public enum Refusal: Error, Sendable, Hashable {
        /// No token, a malformed one, an unknown key or a wrong secret (one answer for all, so
        /// a caller cannot probe which ids exist).
        case unauthenticated
        /// The key is disabled.
        case disabled
        /// The key's own rate limit is spent; a request may succeed after `retryAfterSeconds`.
        case rateLimited(retryAfterSeconds: Int)
    }

    /// The shared record's key in the store.
    public static let recordKey = "gateway/virtual-keys"
    /// Every token starts with this.
    public static let tokenPrefix = "gk-"
    static let purpose = "routersdk.gateway.virtual-key"

    private let store: any StateStore
    private let masterKey: MasterKey
    private let clock: any RouterClock
    /// How stale the cached keys may get before a request reads the store again.
    public let refreshInterval: Duration
    private var keys: [String: VirtualKey] = [:]
    private var version: Int64?
    private var loadedAt: Duration?
    private var lastMissReload: Duration?
    /// Each key's token bucket: tokens left and when it was last filled (monotonic).
    private var buckets: [String: (tokens: Double, at: Duration)] = [:]

    /// Creates the key set over `store`; fingerprints are keyed by `masterKey`.
    public init(store: any StateStore, masterKey: MasterKey, clock: any RouterClock = SystemClock(), refreshInterval: Duration = .seconds(5)) {
        self.store = store
        self.masterKey = masterKey
        self.clock = clock
        self.refreshInterval = refreshInterval
    }

    // MARK: Authentication

    /// The key `token` belongs to, if it is valid, enabled and within its rate limit (which
    /// this request then uses).
    public func authenticate(_ token: String) async -> Result<VirtualKey, Refusal> {
        guard let (id, secret) = Self.parse(token) else { return .failure(.unauthenticated) }
        let now = clock.monotonicNow()
        // Each read is marked before it is made, so while the store is slow or down one request
        // an interval waits for it (the others use the cached keys), not every request.
        if let loadedAt, now - loadedAt >= refreshInterval {
            self.loadedAt = now
            try? await reload()
        }
        if keys[id] == nil, lastMissReload.map({ now - $0 >= .seconds(1) }) ?? true {
            lastMissReload = now
            try? await reload()
        }
        guard let key = keys[id], let fingerprint = Data(base64Encoded: key.fingerprint),
            masterKey.matches(fingerprint, secret: Data(secret.utf8), purpose: Self.purpose)
        else { return .failure(.unauthenticated) }
        if key.disabled { return .failure(.disabled) }
        if let limit = key.requestsPerMinute, let wait = take(from: id, limit: limit, now: clock.monotonicNow()) {
            return .failure(.rateLimited(retryAfterSeconds: wait))
        }
        return .success(key)
    }

    /// Takes one request from the key's bucket (`limit` a minute, refilled continuously);
    /// `nil` when it had one, else the whole seconds until it will.
    private func take(from id: String, limit: Int, now: Duration) -> Int? {
        let perSecond = Double(limit) / 60
        var bucket = buckets[id] ?? (Double(limit), now)
        bucket.tokens = min(Double(limit), bucket.tokens + perSecond * Self.seconds(now - bucket.at))
        bucket.at = now
        defer { buckets[id] = bucket }
        guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
        bucket.tokens -= 1
        return nil
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Splits `gk-<id>-<secret>`; the id is `vk_` and 12 hex digits.
    static func parse(_ token: String) -> (id: String, secret: String)? {
        guard token.hasPrefix(tokenPrefix) else { return nil }
        let rest = token.dropFirst(tokenPrefix.count)
        guard let dash = rest.firstIndex(of: "-") else { return nil }
        let id = String(rest[..<dash])
        let secret = String(rest[rest.index(after: dash)...])
        guard id.count == 15, id.hasPrefix("vk_"), !secret.isEmpty else { return nil }
        return (id, secret)
    }

    // MARK: Management

    /// Every key, read from the store.
    public func list() async throws -> [VirtualKey] {
        try await reload()
        return keys.values.sorted { $0.id < $1.id }
    }

    /// The key with `id`, read from the store, or `nil`.
    public func key(_ id: String) async throws -> VirtualKey? {
        try await reload()
        return keys[id]
    }

    /// Makes a key and returns it with its token — the only time the token is shown.
    ///
    /// - Throws: ``GatewayError`` (400) for an empty name or a rate limit below 1; a store error.
    public func create(_ spec: VirtualKeySpec) async throws -> (key: VirtualKey, token: String) {
        guard !spec.name.isEmpty else { throw GatewayError.invalidRequest("a virtual key needs a name", parameter: "name") }
        if let limit = spec.requestsPerMinute, limit < 1 {
            throw GatewayError.invalidRequest("requests_per_minute must be at least 1", parameter: "requests_per_minute")
        }
        let id = "vk_" + Self.randomHex(bytes: 6)
        let secret = Self.randomSecret()
        let key = VirtualKey(
            id: id, name: spec.name, tags: spec.tags.sorted(), models: spec.models.sorted(), requestsPerMinute: spec.requestsPerMinute,
            disabled: false, created: clock.now(), fingerprint: fingerprint(secret))
        try await update { keys in keys[id] = key }
        return (key, Self.token(id: id, secret: secret))
    }

    /// Enables or disables a key; returns it, or `nil` when no key has that id.
    public func setDisabled(_ id: String, _ disabled: Bool) async throws -> VirtualKey? {
        try await update { keys in keys[id]?.disabled = disabled }
        return keys[id]
    }

    /// Gives a key a new token (the old one stops working) and returns it, or `nil` when no
    /// key has that id.
    public func rotate(_ id: String) async throws -> (key: VirtualKey, token: String)? {
        let secret = Self.randomSecret()
        let fingerprint = fingerprint(secret)
        try await update { keys in keys[id]?.fingerprint = fingerprint }
        guard let key = keys[id] else { return nil }
        return (key, Self.token(id: id, secret: secret))
    }

    /// Removes a key; `false` when no key had that id.
    public func remove(_ id: String) async throws -> Bool {
        var removed = false
        try await update { keys in removed = keys.removeValue(forKey: id) != nil }
        buckets[id] = nil
        return removed
    }

    // MARK: Store

    /// Applies `change` to the stored keys with compare-and-set, retrying when another
    /// instance wrote in between.
    private func update(_ change: (inout [String: VirtualKey]) -> Void) async throws {
        for _ in 0..<16 {
            try await reload()
            var changed = keys
            change(&changed)
            if changed == keys { return }
            let body = String(decoding: try JSONEncoder().encode(Array(changed.values).sorted { $0.id < $1.id }), as: UTF8.self)
            if try await store.writeSharedRecord(Self.recordKey, body: body, expectedVersion: version) {
                keys = changed
                version = (version ?? 0) + 1
                return
            }
        }
        throw GatewayError(.serviceUnavailable, type: "api_error", "the virtual keys changed too often to update; try again")
    }

    private func reload() async throws {
        let record = try await store.sharedRecord(Self.recordKey)
        loadedAt = clock.monotonicNow()
        guard let record else {
            (keys, version) = ([:], nil)
            return
        }
        guard record.version != version else { return }
        let decoded = try JSONDecoder().decode([VirtualKey].self, from: Data(record.body.utf8))
        keys = Dictionary(decoded.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        version = record.version
    }

    private func fingerprint(_ secret: String) -> String {
        Data(masterKey.fingerprint(of: Data(secret.utf8), purpose: Self.purpose)).base64EncodedString()
    }

    private static func token(id: String, secret: String) -> String { "\(tokenPrefix)\(id)-\(secret)" }

    /// 32 random bytes as URL-safe base64 without padding.
    private static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func randomHex(bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
    }
}
