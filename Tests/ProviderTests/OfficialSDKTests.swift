import Foundation
import PythonScripts
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// The fake provider server speaks the providers' formats as their official clients parse them:
/// scripts/official-sdk-check.py drives it with the `openai`, `anthropic` and `google-genai`
/// Python SDKs (chat, streams, tools) and validates every answer against the SDKs' response
/// schemas strictly. The SDKs live in the project's .local/venv (scripts/with-services.sh
/// installs them); outside CI a machine without them skips this test, in CI it must run.
@Suite struct OfficialSDKTests {
    @Test(.enabled(if: PythonScript.python != nil || PythonScript.required, "needs the official SDKs in .local/venv (scripts/with-services.sh installs them)"))
    func fakeServerAnswersParseUnderTheOfficialSDKs() async throws {
        let server = try await FakeProviderServer.start()
        let call = ToolCall(id: "call_weather", name: "get_weather", arguments: #"{"city":"Paris"}"#)
        for secret in ["sk-sdk-openai-tools", "sk-sdk-anthropic-tools", "g-sdk-gemini-tools"] {
            server.script(secret: secret, [.reply(FakeReply(text: "", toolCalls: [call], finishReason: .toolCalls))])
        }
        let (status, output) = try await PythonScript.run("official-sdk-check.py", [String(server.port)])
        let secrets = Set(server.requests.map(\.secret))
        await server.shutdown()
        #expect(status == 0, "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
        // Each SDK's credential arrived where that SDK puts it, and the fake read it from there.
        #expect(secrets.isSuperset(of: ["sk-sdk-openai", "sk-sdk-anthropic", "sk-sdk-anthropic-bearer", "g-sdk-gemini", "g-sdk-gemini-query"]), "\(secrets.sorted())")
    }
}
