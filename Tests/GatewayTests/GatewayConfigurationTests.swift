import GatewayKit
import RouterSDK
import Testing

/// Settings from the environment: defaults, keys, base URLs, and refusals that name the
/// variable without printing its value.
@Suite struct GatewayConfigurationTests {
    @Test func defaultsListenOnLoopbackWithTheEmbeddedStore() throws {
        let configuration = try GatewayConfiguration(environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.storeURL == "sqlite:.local/gateway.db")
        #expect(configuration.keys.isEmpty)
        #expect(configuration.maxBodyBytes == 4 << 20)
    }

    @Test func keysBaseURLsAndLimitsAreRead() throws {
        let configuration = try GatewayConfiguration(environment: [
            "GATEWAY_PORT": "11434",
            "GATEWAY_KEYS": "openai-1 openai sk-one\n# a comment\nclaude-1 Anthropic sk-ant-two claude-sonnet-4-5,claude-haiku-4-5; g1 gemini g-three",
            "GATEWAY_BASE_URL_OPENAI": "http://127.0.0.1:9999/v1",
            "GATEWAY_REQUEST_TIMEOUT_SECONDS": "30",
            "GATEWAY_DRAIN_TIMEOUT_SECONDS": "5",
        ])
        #expect(configuration.port == 11434)
        #expect(configuration.keys.map(\.id) == ["openai-1", "claude-1", "g1"])
        #expect(configuration.keys.map(\.settings.provider) == ["openai", "anthropic", "gemini"])
        #expect(configuration.keys[1].settings.models == ["claude-sonnet-4-5", "claude-haiku-4-5"])
        #expect(configuration.baseURLs == ["openai": "http://127.0.0.1:9999/v1"])
        #expect(configuration.requestTimeout == .seconds(30))
        #expect(configuration.drainTimeout == .seconds(5))
    }

    @Test func badSettingsNameTheVariableAndNeverTheSecret() {
        let cases: [([String: String], String)] = [
            (["GATEWAY_PORT": "70000"], "GATEWAY_PORT"),
            (["GATEWAY_PORT": "http"], "GATEWAY_PORT"),
            (["GATEWAY_KEYS": "only-two sk-secret-value"], "GATEWAY_KEYS"),
            (["GATEWAY_KEYS": "a openai sk-secret-value; a openai sk-secret-value"], "GATEWAY_KEYS"),
            (["GATEWAY_KEYS_FILE": "/no/such/file"], "GATEWAY_KEYS_FILE"),
            (["GATEWAY_BASE_URL_OPENAI": "ftp://x"], "GATEWAY_BASE_URL_OPENAI"),
            (["GATEWAY_MAX_BODY_BYTES": "10"], "GATEWAY_MAX_BODY_BYTES"),
        ]
        for (environment, variable) in cases {
            #expect(throws: GatewayConfigurationError.self, "\(variable)") { try GatewayConfiguration(environment: environment) }
            do {
                _ = try GatewayConfiguration(environment: environment)
            } catch {
                #expect(error.variable == variable)
                #expect(!error.description.contains("sk-secret-value"))
            }
        }
    }
}
