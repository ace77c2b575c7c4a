/// An API key's secret material. It never prints.
///
/// `description`, `debugDescription`, string interpolation, `dump` and mirrors all show
/// `<redacted>`; the only way to the plaintext is ``withPlaintext(_:)`` (or ``plaintext``),
/// which you call where the HTTP request is built. Before a secret reaches any ``StateStore``
/// the router seals it with ``SecretSealer`` (AES-GCM under the master key).
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, CustomLeafReflectable, ExpressibleByStringLiteral
{
    private let value: String

    /// Wraps plaintext secret material.
    public init(_ plaintext: String) { self.value = plaintext }

    public init(stringLiteral value: String) { self.value = value }

    /// Runs `body` with the plaintext. Keep the plaintext inside the closure.
    public func withPlaintext<Result, Failure: Error>(
        _ body: (String) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(value)
    }

    /// The plaintext, for building the provider request (an `Authorization` header).
    public var plaintext: String { value }

    /// Whether the secret is empty; ``LLMRouter/register(_:)`` rejects empty secrets.
    public var isEmpty: Bool { value.isEmpty }

    /// A short, non-reversible fingerprint (`sk-…` prefix length and a 4-character tail hash)
    /// that is safe to show an operator to tell two secrets apart.
    public var fingerprint: String {
        var hash: UInt32 = 2_166_136_261
        for byte in value.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let hex = String(hash & 0xFFFF, radix: 16)
        return "len\(value.utf8.count)#" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
