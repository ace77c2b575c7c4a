import Foundation
@testable import RouterChat
@testable import RouterSDK
import RouterTesting
import Testing

/// The byte-level decoders accept exactly what the Foundation (JSONDecoder + JSONValue tree)
/// decoders accepted, decode it to the same reply, and refuse the same malformed inputs with the
/// same error kinds — checked on thousands of generated documents per wire format: random member
/// order, unknown members with nested values, wrong types, escapes and non-ASCII text, numbers in
/// every JSON form, whitespace, trailing commas, duplicate members, and byte-level mutations
/// (truncation, replaced, inserted and repeated bytes).
@Suite struct FastDecoderPropertyTests {
    static let documentsPerFormat = 4_000

    @Test(arguments: Format.allCases)
    func completeRepliesDecodeAsTheFoundationPathDid(format: Format) {
        var random = SplitMix64(seed: 0x5EED_0000 + UInt64(format.rawValue.utf8.count))
        var mismatches: [String] = []
        var accepted = 0
        for _ in 0..<Self.documentsPerFormat {
            var generator = DocumentGenerator(random: random)
            var bytes = generator.reply(format)
            if generator.random.chance(0.35), !generator.madeDuplicate { bytes = generator.mutate(bytes) }
            random = generator.random
            let fast = Outcome { try Plan.adapter(for: format.wireFormat).decodeReply(bytes) }
            let reference = Outcome {
                switch format {
                case .openai: try ReferenceOpenAI.decodeReply(bytes)
                case .anthropic: try ReferenceAnthropic.decodeReply(bytes)
                case .gemini: try ReferenceGemini.decodeReply(bytes)
                }
            }
            if fast != reference, mismatches.count < 5 {
                mismatches.append("\(String(decoding: bytes, as: UTF8.self))\n  fast: \(fast)\n  foundation: \(reference)")
            }
            if case .success = reference { accepted += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n\n"))")
        // Both sides of the contract are exercised: many documents decode, many are refused.
        #expect(accepted > Self.documentsPerFormat / 10 && accepted < Self.documentsPerFormat * 9 / 10, "accepted \(accepted)")
    }

    @Test(arguments: Format.allCases)
    func streamEventsDecodeAsTheFoundationPathDid(format: Format) throws {
        var random = SplitMix64(seed: 0xE7E7_0000 + UInt64(format.rawValue.utf8.count))
        var mismatches: [String] = []
        for _ in 0..<(Self.documentsPerFormat / 8) {
            var fast = Plan.adapter(for: format.wireFormat).makeStreamDecoder()
            var openAI = ReferenceOpenAI.StreamDecoder()
            var anthropic = ReferenceAnthropic.StreamDecoder()
            var gemini = ReferenceGemini.StreamDecoder()
            // A stream of events; tool-call fragments carry state from event to event.
            for _ in 0..<8 {
                var generator = DocumentGenerator(random: random)
                var (name, data) = generator.streamEvent(format)
                if generator.random.chance(0.3), !generator.madeDuplicate { data = generator.mutate(data) }
                random = generator.random
                guard let text = String(validating: data, as: UTF8.self) else { continue }  // SSE lines are text
                let event = ServerSentEvent(event: name, data: text)
                let fastPieces = Outcome { try fast.decode(event) }
                let referencePieces = Outcome {
                    switch format {
                    case .openai: try openAI.decode(event)
                    case .anthropic: try anthropic.decode(event)
                    case .gemini: try gemini.decode(event)
                    }
                }
                if fastPieces != referencePieces, mismatches.count < 5 {
                    mismatches.append("event \(name ?? "-"): \(text)\n  fast: \(fastPieces)\n  foundation: \(referencePieces)")
                }
            }
            let finished = (fast.finish(), format == .openai ? openAI.finish() : format == .anthropic ? anthropic.finish() : [])
            if Outcome.success(finished.0) != Outcome.success(finished.1), mismatches.count < 5 {
                mismatches.append("finish\n  fast: \(finished.0)\n  foundation: \(finished.1)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n\n"))")
    }

    /// JSONValue(parsing:) (now the byte-level reader) and Foundation's JSONDecoder agree on the
    /// edges of the grammar.
    @Test func treeParsingAgreesWithFoundationOnTheEdges() {
        var cases = [
            "24.0", "1e16", "1E2", "1e400", "-0", "9223372036854775808", "99999999999999999999", #""\ud800""#, #""\ud800\udc00""#,
            #"{"a":1,"a":2}"#, "01", "-", "\"a\u{1}b\"", #""\u0000""#, " 1 ", "[1,]", #"{"a":1,}"#, "1.", ".5", "1e", "tru", #""\x""#,
            "nul", "[]x", "2.5", "1.0e1", "-1", "1E+2", "0.1e-2", #""\/""#, "NaN", "Infinity", "[1 2]", #"{"a" 1}"#, "{1:2}",
            #""\uDC00""#, #""\ud83d"x"#, "1.5e300", "4.9e-324", "1e-400", "[,]", "{,}", "[1,,]", "", " ", "\u{FEFF}1", "-9223372036854775808",
            "9223372036854775807", "1.7976931348623157e309", #"{"k":[true,false,null]}"#, #""é😀""#, "\"\u{7F}\"",
        ].map { Array($0.utf8) }
        cases += [[0x22, 0xFF, 0x22], [0xEF, 0xBB, 0xBF, 0x31], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]]
        for depth in [511, 512, 513] {
            cases.append(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8))
            cases.append(Array((String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)).utf8))
        }
        for bytes in cases {
            let foundation = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(JSONValue(parsing: bytes) == foundation, "\(String(decoding: bytes, as: UTF8.self).prefix(40))")
        }
    }

    /// JSONValue.jsonBytes (now the byte writer) round-trips through Foundation.
    @Test func writtenJSONReadsBackThroughFoundation() throws {
        var generator = DocumentGenerator(random: SplitMix64(seed: 42))
        for _ in 0..<500 {
            let value = generator.value(depth: 0)
            let bytes = value.jsonBytes
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(decoded == value.normalized, "\(value.jsonText)")
        }
    }
}

/// A decode's result for comparison: the reply or pieces, or the error's kind.
enum Outcome<Value: Equatable>: Equatable, CustomStringConvertible {
    case success(Value)
    case failure(ProviderError.Kind)

    init(_ body: () throws -> Value) {
        do {
            self = .success(try body())
        } catch let error as ProviderError {
            self = .failure(error.kind)
        } catch {
            self = .failure(ProviderError.Kind(rawValue: "\(error)"))
        }
    }

    static func == (lhs: Outcome, rhs: Outcome) -> Bool {
        switch (lhs, rhs) {
        case (.success(let left), .success(let right)): Self.equivalent(left, right)
        case (.failure(let left), .failure(let right)): left == right
        default: false
        }
    }

    /// Equal, with tool-call arguments compared as JSON (the fast path keeps the arguments as
    /// sent; the tree path re-encoded them with sorted keys).
    private static func equivalent(_ left: Value, _ right: Value) -> Bool {
        switch (left, right) {
        case (let left as DecodedReply, let right as DecodedReply):
            left.text == right.text && left.finishReason == right.finishReason && left.usage == right.usage
                && sameCalls(left.toolCalls, right.toolCalls)
        case (let left as [StreamPiece], let right as [StreamPiece]):
            left.count == right.count && zip(left, right).allSatisfy { pair in
                if case .toolCall(let a) = pair.0, case .toolCall(let b) = pair.1 { return sameCalls([a], [b]) }
                return pair.0 == pair.1
            }
        default: left == right
        }
    }

    private static func sameCalls(_ left: [ToolCall], _ right: [ToolCall]) -> Bool {
        left.count == right.count && zip(left, right).allSatisfy { a, b in
            guard a.id == b.id, a.name == b.name else { return false }
            let parsedA = try? JSONDecoder().decode(JSONValue.self, from: Data(a.arguments.utf8))
            let parsedB = try? JSONDecoder().decode(JSONValue.self, from: Data(b.arguments.utf8))
            return parsedA != nil ? parsedA == parsedB : a.arguments == b.arguments
        }
    }

    var description: String {
        switch self {
        case .success(let value): "\(value)"
        case .failure(let kind): "throws \(kind)"
        }
    }
}

typealias SplitMix64 = SeededRandomNumberGenerator

extension SeededRandomNumberGenerator {
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }
    mutating func pick<T>(_ choices: [T]) -> T { choices[Int.random(in: 0..<choices.count, using: &self)] }
}

/// Generates provider documents as text, with the variety real servers (and broken ones) show.
struct DocumentGenerator {
    var random: SplitMix64
    /// Whether the document has a duplicate member (such documents are not mutated; see `object`).
    var madeDuplicate = false

    init(random: SplitMix64) { self.random = random }

    /// A member value: usually the expected type, sometimes another one.
    enum Shape { case string, integer, object, array, bool }

    // MARK: Documents

    mutating func reply(_ format: Format) -> [UInt8] {
        switch format {
        case .openai:
            let message = object([
                ("role", lit("\"assistant\"")), ("content", field(.string, text())), ("refusal", lit("null")),
                ("tool_calls", random.chance(0.3) ? array((0..<Int.random(in: 0...2, using: &random)).map { _ in openAIToolCall(complete: true) }) : nil),
            ])
            let choice = object([("index", lit("0")), ("message", random.chance(0.95) ? message : nil), ("finish_reason", field(.string, quoted(random.pick(["stop", "length", "tool_calls", "content_filter", "weird"])))), ("logprobs", lit("null"))])
            return bytes(object([
                ("id", quoted("chatcmpl-\(random.next() % 1000)")), ("object", quoted("chat.completion")), ("created", number()),
                ("choices", random.chance(0.95) ? field(.array, array(random.chance(0.95) ? [choice] + (random.chance(0.2) ? [choice] : []) : [])) : nil),
                ("usage", random.chance(0.93) ? field(.object, object([("prompt_tokens", tokenCount()), ("completion_tokens", tokenCount()), ("total_tokens", number())])) : nil),
            ]))
        case .anthropic:
            let blocks = (0..<Int.random(in: 0...3, using: &random)).map { _ in anthropicBlock() }
            return bytes(object([
                ("id", quoted("msg_\(random.next() % 1000)")), ("type", quoted("message")), ("role", quoted("assistant")),
                ("content", random.chance(0.95) ? field(.array, array(blocks)) : nil),
                ("stop_reason", field(.string, quoted(random.pick(["end_turn", "max_tokens", "tool_use", "refusal", "stop_sequence", "x"])))),
                ("usage", random.chance(0.93) ? field(.object, anthropicUsage()) : nil),
            ]))
        case .gemini:
            return bytes(object([
                ("candidates", random.chance(0.9) ? field(.array, array(random.chance(0.95) ? [geminiCandidate()] : [])) : nil),
                ("usageMetadata", random.chance(0.93) ? field(.object, geminiUsage()) : nil),
                ("promptFeedback", random.chance(0.1) ? object([("blockReason", quoted("SAFETY"))]) : nil),
                ("modelVersion", quoted("gemini-2.5-flash")),
            ]))
        }
    }

    mutating func streamEvent(_ format: Format) -> (String?, [UInt8]) {
        switch format {
        case .openai:
            if random.chance(0.05) { return (nil, Array("[DONE]".utf8)) }
            var delta: [(String, String?)] = [("content", random.chance(0.7) ? field(.string, text()) : nil)]
            if random.chance(0.3) { delta.append(("tool_calls", array((0..<Int.random(in: 1...2, using: &random)).map { _ in openAIToolCall(complete: false) }))) }
            let choice = object([("index", lit("0")), ("delta", field(.object, object(delta))), ("finish_reason", random.chance(0.2) ? field(.string, quoted("stop")) : lit("null"))])
            return (nil, bytes(object([
                ("id", quoted("chatcmpl-1")), ("object", quoted("chat.completion.chunk")), ("created", number()),
                ("choices", random.chance(0.9) ? array([choice]) : lit("[]")),
                ("usage", random.chance(0.2) ? field(.object, object([("prompt_tokens", tokenCount()), ("completion_tokens", tokenCount())])) : (random.chance(0.5) ? lit("null") : nil)),
            ])))
        case .anthropic:
            let type = random.pick(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "ping"])
            let index = random.chance(0.9) ? field(.integer, String(Int.random(in: 0...2, using: &random))) : nil
            var members: [(String, String?)] = [("type", random.chance(0.9) ? quoted(type) : nil), ("index", index)]
            switch type {
            case "message_start": members.append(("message", object([("id", quoted("m")), ("usage", field(.object, anthropicUsage()))])))
            case "content_block_start": members.append(("content_block", field(.object, anthropicBlock())))
            case "content_block_delta":
                members.append(("delta", random.chance(0.5)
                    ? object([("type", quoted("text_delta")), ("text", field(.string, text()))])
                    : object([("type", quoted("input_json_delta")), ("partial_json", field(.string, quoted(random.pick(["{\\\"a\\\":", "1}", "", "\\\"x\\\""]))))])))
            case "message_delta":
                members.append(("delta", object([("stop_reason", field(.string, quoted(random.pick(["end_turn", "tool_use"]))))])))
                members.append(("usage", random.chance(0.8) ? field(.object, anthropicUsage()) : nil))
            default: break
            }
            return (random.chance(0.5) ? type : nil, bytes(object(members)))
        case .gemini:
            return (nil, bytes(object([
                ("candidates", random.chance(0.85) ? field(.array, array([geminiCandidate()])) : nil),
                ("usageMetadata", random.chance(0.6) ? field(.object, geminiUsage()) : nil),
                ("promptFeedback", random.chance(0.05) ? object([("blockReason", quoted("OTHER"))]) : nil),
            ])))
        }
    }

    private mutating func openAIToolCall(complete: Bool) -> String {
        object([
            ("index", complete ? nil : field(.integer, String(Int.random(in: 0...2, using: &random)))),
            ("id", random.chance(complete ? 0.95 : 0.5) ? field(.string, quoted("call_\(random.next() % 100)")) : nil),
            ("type", quoted("function")),
            ("function", field(.object, object([
                ("name", random.chance(complete ? 0.95 : 0.5) ? field(.string, quoted(random.pick(["get_weather", "lookup", "f"]))) : nil),
                ("arguments", random.chance(0.9) ? field(.string, quoted(random.pick(["{\\\"city\\\":\\\"Paris\\\"}", "{}", "{\\\"n\\\":", "1}"]))) : nil),
            ]))),
        ])
    }

    private mutating func anthropicBlock() -> String {
        if random.chance(0.6) {
            return object([("type", quoted("text")), ("text", field(.string, text()))])
        }
        return object([
            ("type", quoted(random.chance(0.9) ? "tool_use" : "thinking")),
            ("id", random.chance(0.9) ? field(.string, quoted("toolu_\(random.next() % 100)")) : nil),
            ("name", random.chance(0.9) ? field(.string, quoted("get_weather")) : nil),
            ("input", random.chance(0.9) ? jsonValue() : nil),
        ])
    }

    private mutating func anthropicUsage() -> String {
        object([
            ("input_tokens", random.chance(0.9) ? tokenCount() : nil), ("output_tokens", random.chance(0.9) ? tokenCount() : nil),
            ("cache_creation_input_tokens", random.chance(0.3) ? tokenCount() : nil), ("cache_read_input_tokens", random.chance(0.3) ? tokenCount() : nil),
        ])
    }

    private mutating func geminiCandidate() -> String {
        let parts = (0..<Int.random(in: 0...3, using: &random)).map { _ -> String in
            if random.chance(0.7) {
                return object([("text", field(.string, text())), ("thought", random.chance(0.15) ? field(.bool, "true") : nil)])
            }
            return object([("functionCall", field(.object, object([
                ("name", random.chance(0.9) ? field(.string, quoted("lookup")) : nil), ("id", random.chance(0.3) ? quoted("fc_1") : nil),
                ("args", random.chance(0.9) ? jsonValue() : nil),
            ])))])
        }
        return object([
            ("content", field(.object, object([("role", quoted("model")), ("parts", field(.array, array(parts)))]))),
            ("finishReason", random.chance(0.5) ? field(.string, quoted(random.pick(["STOP", "MAX_TOKENS", "SAFETY", "OTHER"]))) : nil),
            ("index", lit("0")),
        ])
    }

    private mutating func geminiUsage() -> String {
        object([
            ("promptTokenCount", random.chance(0.9) ? tokenCount() : nil), ("candidatesTokenCount", random.chance(0.8) ? tokenCount() : nil),
            ("thoughtsTokenCount", random.chance(0.2) ? tokenCount() : nil), ("totalTokenCount", number()),
        ])
    }

    // MARK: Values

    /// `expected` most of the time; otherwise a value of another shape (a wrong type).
    private mutating func field(_ shape: Shape, _ expected: String) -> String {
        guard random.chance(0.07) else { return expected }
        return random.pick([quoted("surprise"), "17", "null", "true", "{}", "[]", #"{"nested":[1,{"x":"y"}]}"#])
    }

    private func lit(_ text: String) -> String { text }

    private mutating func quoted(_ text: String) -> String { "\"" + text + "\"" }

    /// A JSON string of text with escapes and non-ASCII characters.
    private mutating func text() -> String {
        let pieces = ["Hello", " world", "é", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\t", "日本", " ", "\\u0041", ""]
        return quoted((0..<Int.random(in: 0...5, using: &random)).map { _ in random.pick(pieces) }.joined())
    }

    /// A token count in one of JSON's number forms (some not integral, some out of range).
    private mutating func tokenCount() -> String {
        let value = Int.random(in: 0...5_000, using: &random)
        return random.pick([
            "\(value)", "\(value)", "\(value)", "\(value).0", "\(value)e0", "-\(value)", "\(value).5", "1e16", "1e400", "99999999999999999999",
            "\"\(value)\"", "null", "0",
        ])
    }

    private mutating func number() -> String { random.pick(["1732406400", "0", "-1", "2.5", "1e3"]) }

    /// An arbitrary JSON value as text.
    private mutating func jsonValue(depth: Int = 0) -> String {
        let choice = Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &random)
        switch choice {
        case 0: return text()
        case 1: return number()
        case 2: return random.pick(["true", "false", "null"])
        case 3: return tokenCount()
        case 4: return array((0..<Int.random(in: 0...3, using: &random)).map { _ in jsonValue(depth: depth + 1) })
        default:
            return object((0..<Int.random(in: 0...3, using: &random)).map { index in ("k\(index)", jsonValue(depth: depth + 1)) })
        }
    }

    /// An object of the members that are present, in random order, with unknown members,
    /// random whitespace, sometimes a duplicate member or a trailing comma.
    private mutating func object(_ members: [(String, String?)]) -> String {
        var present = members.compactMap { name, value in value.map { (name, $0) } }
        if random.chance(0.3) { present.append(("x_unknown_\(random.next() % 10)", jsonValue())) }
        present.shuffle(using: &random)
        if random.chance(0.03), let first = present.first {
            // A duplicate member, after the original: both paths keep the first. Its value is valid JSON that
            // decodes: Foundation never decodes an ignored duplicate, so it would accept an
            // invalid escape or an out-of-range number there, which the byte reader (validating
            // every byte) refuses — the one known difference, and not one a provider produces.
            present.append((first.0, random.pick(["17", "null", "\"dup\"", "[1,2]", "{}"])))
            madeDuplicate = true
        }
        let body = present.map { "\(space())\"\($0.0)\"\(space()):\(space())\($0.1)" }.joined(separator: ",")
        return "{" + body + (random.chance(0.02) && !present.isEmpty ? "," : "") + space() + "}"
    }

    private mutating func array(_ elements: [String]) -> String {
        "[" + elements.map { space() + $0 }.joined(separator: ",") + (random.chance(0.02) && !elements.isEmpty ? "," : "") + "]"
    }

    private mutating func space() -> String { random.chance(0.2) ? random.pick([" ", "\n", "\t ", "\r\n  "]) : "" }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: Mutations

    /// The bytes with a random corruption.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return bytes }
        var bytes = bytes
        let position = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: bytes.removeSubrange(position...)  // truncated
        case 1: bytes[position] = random.pick(Array("{}[],:\"\\ 0-e.tfn".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF])
        case 2: bytes.insert(random.pick(Array("{}[],:\"\\ 0-e.tfn".utf8) + [0xE2, 0xF0]), at: position)
        case 3: bytes.remove(at: position)
        default:
            let end = min(bytes.count, position + Int.random(in: 1...12, using: &random))
            bytes.insert(contentsOf: bytes[position..<end], at: end)  // a repeated slice
        }
        return bytes
    }

    // MARK: Trees (for the writer)

    mutating func value(depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(random.chance(0.5))
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &random))
        case 3: return .number(random.pick([0.5, -1.25, 1e-7, 3.141592653589793, 1e300, 0.1, 100.0]))
        case 4: return .string(random.pick(["", "plain", "quote\"back\\slash", "ctrl\u{1}\u{1F}\n\t\r", "é😀日本", "\u{7F}/"]))
        case 5: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth: depth + 1) })
        default:
            return .object(Dictionary((0..<Int.random(in: 0...3, using: &random)).map { ("key\($0)\(random.pick(["", "\"", "é"]))", value(depth: depth + 1)) }, uniquingKeysWith: { a, _ in a }))
        }
    }
}

extension JSONValue {
    /// The value as JSON reads it back: an integral number is an integer.
    var normalized: JSONValue {
        switch self {
        case .number(let value) where value.rounded() == value && abs(value) < 9.2e18: .integer(Int64(value))
        case .array(let elements): .array(elements.map(\.normalized))
        case .object(let members): .object(members.mapValues(\.normalized))
        default: self
        }
    }
}
