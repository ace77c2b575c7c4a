import GatewayKit
import HummingbirdTesting
import PythonScripts
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// The gateway on a real port, driven by the official `openai` Python SDK with only a base URL
/// changed (scripts/gateway-sdk-check.py): chat, a stream with usage, tools whole and streamed,
/// a model list, and errors raised as the SDK's own exception types — each answer validated
/// against the SDK's schemas. Upstreams in all three formats stand behind it.
@Suite struct GatewayOfficialSDKTests {
    @Test(.enabled(if: PythonScript.python != nil || PythonScript.required, "needs the official SDKs in .local/venv (scripts/with-services.sh installs them)"))
    func theOpenAISDKUsesTheGatewayAsItsBaseURL() async throws {
        try await GatewayFixture.run(keys: [("k-openai", .openai), ("k-anthropic", .anthropic), ("k-gemini", .gemini)], setup: .live) { fixture, client in
            let port = try #require(client.port)
            fixture.upstream.defaultReply = FakeReply(text: "Hello from the gateway")
            let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)
            fixture.upstream.script(secret: GatewayFixture.secret("k-gemini"), [.reply(FakeReply(text: "", toolCalls: [call])), .reply(FakeReply(text: "", toolCalls: [call]))])
            let (status, output) = try await PythonScript.run("gateway-sdk-check.py", [String(port)])
            #expect(status == 0, "\(output)")
            #expect(!output.contains("FAIL"), "\(output)")
            #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 6, "\(output)")
        }
    }
}
