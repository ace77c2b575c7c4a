public import RouterSDK
internal import Foundation

/// The gateway's settings, read from the environment (12-factor). Secrets come from the
/// environment or a file named by it, never from the command line, and are never printed.
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `GATEWAY_HOST` | address to listen on | `127.0.0.1` |
/// | `GATEWAY_PORT` | port (11434 gives Ollama clients their usual port) | `8080` |
/// | `GATEWAY_STORE_URL` | state store (`sqlite:`, `postgres://`, `mongodb://`, `memory:`) | `sqlite:.local/gateway.db` |
/// | `GATEWAY_KEYS` / `GATEWAY_KEYS_FILE` | provider keys, one per line (or `;`): `id provider secret [model,model…]` | none |
/// | `GATEWAY_BASE_URL_<PROVIDER>` | a provider's base URL (a proxy, a local server) | the catalog's |
/// | `GATEWAY_REQUEST_TIMEOUT_SECONDS` | one upstream call | `120` |
/// | `GATEWAY_DRAIN_TIMEOUT_SECONDS` | in-flight requests at shutdown | `30` |
/// | `GATEWAY_MAX_BODY_BYTES` | largest request body | `4194304` |
/// | `GATEWAY_UPSTREAM_CONNECTIONS` | HTTP/1.1 connections kept per provider host (requests beyond wait) | `256` |
/// | `GATEWAY_DECISION_SAMPLE_INTERVAL` | keep every Nth routing decision for `/admin/decisions` (0: none) | `1` |
/// | `GATEWAY_AUTH` | `virtual-keys`: clients need a gateway key; `none`: open (trusted callers only) | `virtual-keys` |
/// | `GATEWAY_ADMIN_TOKEN` / `GATEWAY_ADMIN_TOKEN_FILE` | bearer token of `/admin` and `/ui` (16 characters or more) | none: no admin API |
/// | `ROUTERSDK_MASTER_KEY` | seals key secrets and fingerprints gateway keys in the store (base64 of 32 bytes) | required for a persistent store |
public struct GatewayConfiguration: Sendable {
    /// Address to listen on.
    public var host: String
    /// Port to listen on (0: any free port).
    public var port: Int
    /// The state store's URL.
    public var storeURL: String
    /// Provider keys to register at start (idempotent across restarts and replicas).
    public var keys: [APIKey]
    /// Base URLs replacing the catalog's, by provider.
    public var baseURLs: [ProviderID: String]
    /// How long one upstream call may take.
    public var requestTimeout: Duration
    /// How long in-flight requests may run after SIGTERM.
    public var drainTimeout: Duration
    /// The largest request body accepted (bytes); larger ones are 413.
    public var maxBodyBytes: Int
    /// HTTP/1.1 connections kept per provider host; requests beyond it wait for one.
    public var upstreamConnectionsPerHost: Int
    /// Every Nth routing decision is kept, with its reason, for `/admin/decisions` (0: none).
    public var decisionSampleInterval: Int
    /// Whether clients must authenticate with a virtual key.
    public var requireVirtualKeys: Bool
    /// The admin API's bearer token; without one the admin API and dashboard answer 404.
    public var adminToken: Secret?

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, storeURL: String = "sqlite:.local/gateway.db", keys: [APIKey] = [],
        baseURLs: [ProviderID: String] = [:], requestTimeout: Duration = .seconds(120), drainTimeout: Duration = .seconds(30),
        maxBodyBytes: Int = 4 << 20, upstreamConnectionsPerHost: Int = 256, decisionSampleInterval: Int = 1, requireVirtualKeys: Bool = true, adminToken: Secret? = nil
    ) {
        self.decisionSampleInterval = decisionSampleInterval
        self.upstreamConnectionsPerHost = upstreamConnectionsPerHost
        self.host = host
        self.port = port
        self.storeURL = storeURL
        self.keys = keys
        self.baseURLs = baseURLs
        self.requestTimeout = requestTimeout
        self.drainTimeout = drainTimeout
        self.maxBodyBytes = maxBodyBytes
        self.requireVirtualKeys = requireVirtualKeys
        self.adminToken = adminToken
    }

    /// Reads the variables above from `environment`.
    ///
    /// - Throws: ``GatewayConfigurationError`` naming the variable (never its value, which may
    ///   be a secret).
    public init(environment: [String: String]) throws(GatewayConfigurationError) {
        self.init()
        host = environment["GATEWAY_HOST"] ?? host
        port = try Self.integer(environment, "GATEWAY_PORT", in: 0...65_535) ?? port
        storeURL = environment["GATEWAY_STORE_URL"] ?? storeURL
        if let seconds = try Self.integer(environment, "GATEWAY_REQUEST_TIMEOUT_SECONDS", in: 1...3_600) { requestTimeout = .seconds(seconds) }
        if let seconds = try Self.integer(environment, "GATEWAY_DRAIN_TIMEOUT_SECONDS", in: 0...3_600) { drainTimeout = .seconds(seconds) }
        maxBodyBytes = try Self.integer(environment, "GATEWAY_MAX_BODY_BYTES", in: 1_024...(1 << 30)) ?? maxBodyBytes
        upstreamConnectionsPerHost = try Self.integer(environment, "GATEWAY_UPSTREAM_CONNECTIONS", in: 1...65_535) ?? upstreamConnectionsPerHost
        decisionSampleInterval = try Self.integer(environment, "GATEWAY_DECISION_SAMPLE_INTERVAL", in: 0...1_000_000) ?? decisionSampleInterval
        for (name, value) in environment where name.hasPrefix("GATEWAY_BASE_URL_") {
            let provider = name.dropFirst("GATEWAY_BASE_URL_".count).lowercased()
            guard !provider.isEmpty, let url = URL(string: value), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw GatewayConfigurationError(variable: name, problem: "must be an http or https URL")
            }
            baseURLs[ProviderID(provider)] = value
        }
        var keyLines = environment["GATEWAY_KEYS"] ?? ""
        if let path = environment["GATEWAY_KEYS_FILE"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw GatewayConfigurationError(variable: "GATEWAY_KEYS_FILE", problem: "names a file that cannot be read")
            }
            keyLines += "\n" + text
        }
        keys = try Self.keys(keyLines)
        switch environment["GATEWAY_AUTH"] {
        case nil, "virtual-keys"?: requireVirtualKeys = true
        case "none"?: requireVirtualKeys = false
        default: throw GatewayConfigurationError(variable: "GATEWAY_AUTH", problem: "must be 'virtual-keys' or 'none'")
        }
        var token = environment["GATEWAY_ADMIN_TOKEN"]
        if let path = environment["GATEWAY_ADMIN_TOKEN_FILE"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw GatewayConfigurationError(variable: "GATEWAY_ADMIN_TOKEN_FILE", problem: "names a file that cannot be read")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let token {
            guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
                throw GatewayConfigurationError(variable: "GATEWAY_ADMIN_TOKEN", problem: "must be 16 characters or more, without spaces")
            }
            adminToken = Secret(token)
        }
    }

    /// Keys, one per line or `;`: `id provider secret [model,model…]`; `#` starts a comment.
    static func keys(_ text: String) throws(GatewayConfigurationError) -> [APIKey] {
        var keys: [APIKey] = []
        var seen: Set<String> = []
        let entries = text.split(whereSeparator: { $0 == "\n" || $0 == ";" })
        for (number, entry) in entries.enumerated() {
            let line = entry.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if fields.isEmpty { continue }
            guard fields.count == 3 || fields.count == 4 else {
                // The entry's number only: the line holds a secret.
                throw GatewayConfigurationError(variable: "GATEWAY_KEYS", problem: "entry \(number + 1) must be 'id provider secret [model,model…]'")
            }
            guard seen.insert(fields[0]).inserted else {
                throw GatewayConfigurationError(variable: "GATEWAY_KEYS", problem: "key id '\(fields[0])' appears twice")
            }
            let models = fields.count == 4 ? Set(fields[3].split(separator: ",").map(String.init)) : []
            keys.append(APIKey(id: KeyID(fields[0]), provider: ProviderID(fields[1].lowercased()), secret: Secret(fields[2]), models: models))
        }
        return keys
    }

    private static func integer(_ environment: [String: String], _ name: String, in range: ClosedRange<Int>) throws(GatewayConfigurationError) -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw GatewayConfigurationError(variable: name, problem: "must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}

/// A setting the gateway cannot start with.
public struct GatewayConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable at fault.
    public var variable: String
    /// What is wrong with it (never its value).
    public var problem: String

    /// The variable and the problem, safe to print.
    public var description: String { "\(variable) \(problem)" }
}
