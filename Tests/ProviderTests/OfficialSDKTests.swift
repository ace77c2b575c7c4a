import Foundation
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
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var python: String? {
        let candidate = ProcessInfo.processInfo.environment["ROUTERSDK_PYTHON"] ?? root.appendingPathComponent(".local/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: candidate),
            FileManager.default.fileExists(atPath: root.appendingPathComponent(".local/venv/lib").path)
        else { return nil }
        return candidate
    }
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    @Test(.enabled(if: python != nil || required, "needs the official SDKs in .local/venv (scripts/with-services.sh installs them)"))
    func fakeServerAnswersParseUnderTheOfficialSDKs() async throws {
        let python = try #require(Self.python, "no Python with the official SDKs; run scripts/with-services.sh")
        let server = try await FakeProviderServer.start()
        let call = ToolCall(id: "call_weather", name: "get_weather", arguments: #"{"city":"Paris"}"#)
        for secret in ["sk-sdk-openai-tools", "sk-sdk-anthropic-tools", "g-sdk-gemini-tools"] {
            server.script(secret: secret, [.reply(FakeReply(text: "", toolCalls: [call], finishReason: .toolCalls))])
        }
        let (status, output) = try await Self.run(python, [Self.root.appendingPathComponent("scripts/official-sdk-check.py").path, String(server.port)])
        let secrets = Set(server.requests.map(\.secret))
        await server.shutdown()
        #expect(status == 0, "\(output)")
        #expect(!output.contains("FAIL"), "\(output)")
        // Each SDK's credential arrived where that SDK puts it, and the fake read it from there.
        #expect(secrets.isSuperset(of: ["sk-sdk-openai", "sk-sdk-anthropic", "sk-sdk-anthropic-bearer", "g-sdk-gemini", "g-sdk-gemini-query"]), "\(secrets.sorted())")
    }

    /// Runs a process to its end without blocking a thread of the cooperative pool: the exit
    /// arrives through the termination handler, the output through a file.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("official-sdk-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try output.close()
        defer { try? FileManager.default.removeItem(at: outputURL) }
        return (status, (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "")
    }
}
