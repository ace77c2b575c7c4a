// FakeUpstream: RouterTesting's FakeProviderServer as a process — an offline stand-in for the
// OpenAI, Anthropic and Gemini APIs on 127.0.0.1, at /openai/v1, /anthropic/v1 and
// /gemini/v1beta. The gateway's quick start points the gateway at it, and the load benchmark
// runs it as a release build on a fixed port so that what is measured is the gateway, not it.
//
//     swift run -c release FakeUpstream 18090      # port (default 18090)
//
// Every request is answered at once with a short reply; its request log is bounded. SIGTERM or
// SIGINT ends it.
import Foundation
import RouterChat
import RouterTesting

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 18_090
let server = try await FakeProviderServer.start(port: port)
server.defaultReply = FakeReply(text: "Hello from the offline upstream.", inputTokens: 12, outputTokens: 7)
FileHandle.standardOutput.write(Data("FakeUpstream listening on 127.0.0.1:\(server.port)\n".utf8))
// Nothing to drain or save: the default signal action ends the process.
while true { try await Task.sleep(for: .seconds(3_600)) }
