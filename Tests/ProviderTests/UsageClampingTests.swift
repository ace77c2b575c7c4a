import RouterSDK
import RouterChat
import RouterTesting
import Testing

/// A provider (or a proxy in front of one) that reports absurd token counts can neither crash
/// the process nor leak a lease: adapters clamp what they decode.
@Suite struct UsageClampingTests {
    @Test(arguments: Format.allCases)
    func intMaxTokenCountsFromAProviderAreClampedAndSettled(format: Format) async throws {
        try await withProviders(keys: [("k1", format)]) { fixture in
            let huge = FakeReply(text: "ok", inputTokens: .max, outputTokens: .max)
            fixture.server.script(secret: ProviderFixture.secret("k1"), [.reply(huge), .reply(huge)])
            let reply = try await fixture.client.chat(ChatRequest(model: format.model, messages: [.user("hi")], maxTokens: 16))
            #expect(reply.usage.inputTokens == Usage.maximumTokens)
            #expect(reply.usage.outputTokens == Usage.maximumTokens)
            let price = await fixture.price(format)
            #expect(reply.cost == price.cost(inputTokens: Usage.maximumTokens, outputTokens: Usage.maximumTokens))

            let streamed = await collect(fixture.client.stream(ChatRequest(model: format.model, messages: [.user("hi")], maxTokens: 16)))
            #expect(streamed.error == nil)
            guard case .finished(_, let usage, let cost)? = streamed.events.last else {
                Issue.record("the stream did not finish: \(streamed.events)")
                return
            }
            #expect(usage.inputTokens == Usage.maximumTokens && usage.outputTokens == Usage.maximumTokens)
            #expect(cost == reply.cost)
            // Both leases were settled: nothing is in flight on the key.
            #expect(try await fixture.router.quota(of: "k1").inFlight == 0)
        }
    }
}
