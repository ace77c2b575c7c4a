import Foundation

/// Keeps the password of a connection URL out of every message a store produces.
package struct URLRedactor: Sendable {
    /// The URL with its password replaced by `***`.
    package let redactedURL: String
    private let password: String?

    /// Reads the password (if any) out of `url`.
    package init(url: String) {
        if var components = URLComponents(string: url) {
            password = components.password.flatMap { $0.isEmpty ? nil : $0 }
            if components.password != nil { components.password = "***" }
            redactedURL = components.string ?? "<unparseable URL>"
        } else {
            password = nil
            redactedURL = "<unparseable URL>"
        }
    }

    /// `message` with every occurrence of the password replaced by `***`.
    package func scrub(_ message: String) -> String {
        guard let password else { return message }
        return message.replacingOccurrences(of: password, with: "***")
    }
}
