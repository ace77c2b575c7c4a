import GatewayKit
import HummingbirdTesting
import PythonScripts
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// The gateway on a real port, driven by the official `openai`, `anthropic` and `ollama` Python
/// clients with only a base URL changed (scripts/gateway-<client>-check.py): chat, streams, tools
/// whole and streamed, the model list, and errors raised as each client's own exception types —
/// answers validated strictly against each client's schemas. Upstreams in all three formats
/// stand behind it, so each client is answered from providers speaking the other formats.
@Suite struct GatewayOfficialSDKTests {
    /// One client's check: its script, the upstream its tool checks are served by, how many
    /// tool-call answers they take, and how many checks it runs.
    struct Client: Sendable, CustomTestStringConvertible {
        let script: String
        let toolUpstream: Upstream
        let toolAnswers: Int
        let checks: Int
        var testDescription: String { script }
    }

    static let clients = [
        Client(script: "gateway-openai-check.py", toolUpstream: .gemini, toolAnswers: 2, checks: 6),
        Client(script: "gateway-anthropic-check.py", toolUpstream: .anthropic, toolAnswers: 2, checks: 6),
        Client(script: "gateway-ollama-check.py", toolUpstream: .gemini, toolAnswers: 1, checks: 7),
    ]

    @Test(
        .enabled(if: PythonScript.python != nil || PythonScript.required, "needs the official SDKs in .local/venv (scripts/with-services.sh installs them)"),
        arguments: clients)
    func anOfficialClientUsesTheGatewayAsItsBaseURL(_ sdk: Client) async throws {
        try await GatewayFixture.run(keys: [("k-openai", .openai), ("k-anthropic", .anthropic), ("k-gemini", .gemini)], setup: .live) { fixture, client in
            let port = try #require(client.port)
            fixture.upstream.defaultReply = FakeReply(text: "Hello from the gateway")
            let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)
            let toolKey = GatewayFixture.secret("k-\(sdk.toolUpstream.rawValue)")
            fixture.upstream.script(secret: toolKey, Array(repeating: .reply(FakeReply(text: "", toolCalls: [call])), count: sdk.toolAnswers))
            let (status, output) = try await PythonScript.run(sdk.script, [String(port)])
            #expect(status == 0, "\(output)")
            #expect(!output.contains("FAIL"), "\(output)")
            #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == sdk.checks, "\(output)")
        }
    }
}
