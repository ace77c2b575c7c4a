public import Foundation
internal import Crypto

/// A secret sealed with AES-256-GCM under a master key: what stores persist instead of plaintext.
///
/// `combined` is nonce ‖ ciphertext ‖ tag; `masterKeyID` names the master key that sealed it,
/// so old records stay readable while the master key is rotated.
public struct SealedSecret: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The id of the master key that sealed this secret.
    public var masterKeyID: String
    /// Nonce, ciphertext and authentication tag.
    public var combined: Data

    /// Creates a sealed secret from stored parts.
    public init(masterKeyID: String, combined: Data) {
        self.masterKeyID = masterKeyID
        self.combined = combined
    }

    public var description: String { "SealedSecret(masterKey: \(masterKeyID), \(combined.count) bytes)" }
}

/// A 256-bit master key with an id, used to seal secrets before they reach a store.
public struct MasterKey: Sendable, CustomStringConvertible {
    /// A stable name for this key (stored with every sealed secret).
    public let id: String
    fileprivate let key: SymmetricKey

    /// Creates a master key from 32 raw bytes.
    public init(id: String, bytes: some Collection<UInt8>) throws {
        guard bytes.count == 32 else {
            throw RouterError(.invalidMasterKey, "master key '\(id)' must be 32 bytes, got \(bytes.count)")
        }
        guard !id.isEmpty else { throw RouterError(.invalidMasterKey, "master key id must not be empty") }
        self.id = id
        self.key = SymmetricKey(data: Array(bytes))
    }

    /// Creates a master key from base64 text (32 bytes once decoded).
    public init(id: String, base64: String) throws {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RouterError(.invalidMasterKey, "master key '\(id)' is not valid base64")
        }
        try self.init(id: id, bytes: data)
    }

    /// A fresh random key, e.g. for an in-memory router whose sealed secrets never outlive it.
    public static func random(id: String = "ephemeral") -> MasterKey {
        // Force-try is safe: 32 random bytes always satisfy the initializer.
        try! MasterKey(id: id, bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// Reads `ROUTERSDK_MASTER_KEY` (base64 of 32 bytes) and optionally `ROUTERSDK_MASTER_KEY_ID`
    /// from the environment; `nil` when the variable is unset.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> MasterKey? {
        guard let text = environment["ROUTERSDK_MASTER_KEY"], !text.isEmpty else { return nil }
        return try MasterKey(id: environment["ROUTERSDK_MASTER_KEY_ID"] ?? "env", base64: text)
    }

    /// A keyed fingerprint of `secret`: HMAC-SHA256 under a key derived from this master key for
    /// `purpose` (HKDF-SHA256), so a credential can be stored as its fingerprint — which a copy
    /// of the store can neither reverse nor test guesses against without the master key.
    public func fingerprint(of secret: some DataProtocol, purpose: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: secret, using: derivedKey(purpose)))
    }

    /// Whether `fingerprint` is `secret`'s for `purpose`, compared in constant time.
    public func matches(_ fingerprint: some DataProtocol & ContiguousBytes, secret: some DataProtocol, purpose: String) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(fingerprint, authenticating: secret, using: derivedKey(purpose))
    }

    private func derivedKey(_ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }

    public var description: String { "MasterKey(\(id), <redacted>)" }
}

/// Seals and opens ``Secret``s with AES-256-GCM.
///
/// It seals with the current master key and opens with any key it knows, which is how a master
/// key is rotated: add the new key as current, keep the old ones in `previous`, re-seal.
package struct SecretSealer: Sendable {
    /// The key new seals use.
    package let current: MasterKey
    private let keysByID: [String: MasterKey]

    /// Creates a sealer sealing with `current` and able to open with `current` and `previous`.
    package init(current: MasterKey, previous: [MasterKey] = []) {
        self.current = current
        var keys: [String: MasterKey] = [:]
        for key in previous { keys[key.id] = key }
        keys[current.id] = current
        self.keysByID = keys
    }

    /// Seals `secret` under the current master key with a fresh random nonce.
    ///
    /// With `keyID`, the seal is bound to that key: the id is authenticated as associated data,
    /// so a sealed secret copied onto another key's row fails to open there. The router always
    /// binds; an unbound seal is only for secrets that belong to no key.
    package func seal(_ secret: Secret, keyID: KeyID? = nil) throws(RouterError) -> SealedSecret {
        do {
            let box = try secret.withPlaintext { plaintext in
                if let keyID {
                    try AES.GCM.seal(Data(plaintext.utf8), using: current.key, authenticating: Self.associatedData(keyID))
                } else {
                    try AES.GCM.seal(Data(plaintext.utf8), using: current.key)
                }
            }
            guard let combined = box.combined else {
                throw RouterError(.secretUnsealFailed, "AES-GCM produced no combined representation")
            }
            return SealedSecret(masterKeyID: current.id, combined: combined)
        } catch let error as RouterError {
            throw error
        } catch {
            throw RouterError(.secretUnsealFailed, "sealing failed: \(type(of: error))")
        }
    }

    /// Opens a sealed secret; throws ``RouterError/Code/secretUnsealFailed`` for an unknown master
    /// key, tampered data, or a secret bound to another key than `keyID`.
    ///
    /// Seals made before binding existed (no associated data) still open, so stores written by
    /// earlier versions keep working; ``LLMRouter/resealSecrets()`` rewrites them bound.
    package func open(_ sealed: SealedSecret, keyID: KeyID? = nil) throws(RouterError) -> Secret {
        guard let master = keysByID[sealed.masterKeyID] else {
            throw RouterError(.secretUnsealFailed, "secret sealed with unknown master key '\(sealed.masterKeyID)'", keyID: keyID)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.combined)
            let plaintext: Data
            if let keyID, let bound = try? AES.GCM.open(box, using: master.key, authenticating: Self.associatedData(keyID)) {
                plaintext = bound
            } else {
                plaintext = try AES.GCM.open(box, using: master.key)
            }
            guard let text = String(bytes: plaintext, encoding: .utf8) else {
                throw RouterError(.secretUnsealFailed, "sealed secret is not UTF-8", keyID: keyID)
            }
            return Secret(text)
        } catch let error as RouterError {
            throw error
        } catch {
            throw RouterError(.secretUnsealFailed, "sealed secret failed authentication (wrong master key, tampered data, or sealed for another key)", keyID: keyID)
        }
    }

    /// What a seal bound to `keyID` authenticates besides the secret.
    static func associatedData(_ keyID: KeyID) -> Data {
        Data("routersdk.key:\(keyID.rawValue)".utf8)
    }
}
