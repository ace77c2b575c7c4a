/// A validating pull parser over JSON bytes, for the adapters' hot path: a decoder walks the
/// members it needs and skips the rest, with no intermediate ``JSONValue`` tree and no `String`
/// made for a key or a skipped value.
///
/// What it accepts is what Foundation's `JSONDecoder` accepts, so the fast decoders and the
/// ``JSONValue`` path agree on every input (a property test holds them to it): RFC 8259 JSON
/// plus a leading byte-order mark and a trailing comma before `]` or `}`; strings must be valid
/// UTF-8 without raw control characters or lone surrogate escapes; numbers that overflow a
/// `Double` are refused; nesting deeper than ``maximumDepth`` is refused. Skipped values are
/// validated as strictly as read ones.
struct JSONReader {
    /// Why the bytes are not JSON (the offset is where the parser stopped).
    struct SyntaxError: Error, Hashable {
        var offset: Int
    }

    /// What kind of value comes next.
    enum Kind: Hashable {
        case object, array, string, number, bool, null
    }

    /// Foundation's limit, so both paths refuse the same documents.
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int
    private var depth = 0

    /// A reader positioned at the start of `bytes` (after a byte-order mark, if any).
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        let bom = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        self.index = bom ? 3 : 0
    }

    /// Parses `bytes` as one JSON document with `body`, refusing anything after it.
    static func read<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (inout JSONReader) throws -> T) throws -> T {
        var reader = JSONReader(bytes)
        let value = try body(&reader)
        try reader.end()
        return value
    }

    // MARK: Structure

    /// The kind of the next value.
    mutating func peek() throws(SyntaxError) -> Kind {
        skipWhitespace()
        guard index < bytes.count else { throw SyntaxError(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw SyntaxError(offset: index)
        }
    }

    /// Calls `body` for each member of the object that comes next; `body` must consume the
    /// member's value (read it or ``skipValue()``). Anything but an object is skipped and `false`
    /// returned, so a decoder treats a wrong type as an absent value, as the tree path does.
    @discardableResult
    mutating func forEachMember(_ body: (inout JSONReader, JSONKey) throws -> Void) throws -> Bool {
        guard try peek() == .object else {
            try skipValue()
            return false
        }
        try enter()
        index += 1
        skipWhitespace()
        if try consume(UInt8(ascii: "}")) {
            depth -= 1
            return true
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw SyntaxError(offset: index) }
            let key = try scanString()
            skipWhitespace()
            guard try consume(UInt8(ascii: ":")) else { throw SyntaxError(offset: index) }
            if key.escaped {
                let decoded = try unescape(key.range)
                try decoded.withUnsafeBufferPointer { buffer in try body(&self, JSONKey(bytes: buffer)) }
            } else {
                try body(&self, JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[key.range])))
            }
            skipWhitespace()
            if try consume(UInt8(ascii: ",")) {
                skipWhitespace()
                if try consume(UInt8(ascii: "}")) { break }  // Foundation allows a trailing comma
                continue
            }
            guard try consume(UInt8(ascii: "}")) else { throw SyntaxError(offset: index) }
            break
        }
        depth -= 1
        return true
    }

    /// Calls `body` for each element of the array that comes next (with its index); `body`
    /// must consume the element. Anything but an array is skipped and `false` returned.
    @discardableResult
    mutating func forEachElement(_ body: (inout JSONReader, Int) throws -> Void) throws -> Bool {
        guard try peek() == .array else {
            try skipValue()
            return false
        }
        try enter()
        index += 1
        skipWhitespace()
        if try consume(UInt8(ascii: "]")) {
            depth -= 1
            return true
        }
        var position = 0
        while true {
            try body(&self, position)
            position += 1
            skipWhitespace()
            if try consume(UInt8(ascii: ",")) {
                skipWhitespace()
                if try consume(UInt8(ascii: "]")) { break }
                continue
            }
            guard try consume(UInt8(ascii: "]")) else { throw SyntaxError(offset: index) }
            break
        }
        depth -= 1
        return true
    }

    /// Validates and skips the next value.
    mutating func skipValue() throws(SyntaxError) {
        switch try peek() {
        case .object:
            try enter()
            index += 1
            skipWhitespace()
            if try consume(UInt8(ascii: "}")) { break }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw SyntaxError(offset: index) }
                _ = try scanString()
                skipWhitespace()
                guard try consume(UInt8(ascii: ":")) else { throw SyntaxError(offset: index) }
                try skipValue()
                skipWhitespace()
                if try consume(UInt8(ascii: ",")) {
                    skipWhitespace()
                    if try consume(UInt8(ascii: "}")) { break }
                    continue
                }
                guard try consume(UInt8(ascii: "}")) else { throw SyntaxError(offset: index) }
                break
            }
            depth -= 1
        case .array:
            try enter()
            index += 1
            skipWhitespace()
            if try consume(UInt8(ascii: "]")) { break }
            while true {
                try skipValue()
                skipWhitespace()
                if try consume(UInt8(ascii: ",")) {
                    skipWhitespace()
                    if try consume(UInt8(ascii: "]")) { break }
                    continue
                }
                guard try consume(UInt8(ascii: "]")) else { throw SyntaxError(offset: index) }
                break
            }
            depth -= 1
        case .string:
            _ = try scanString()
        case .number:
            _ = try scanNumber()
        case .bool:
            _ = try literalBool()
        case .null:
            try literal("null")
        }
    }

    /// The bytes of the next value, validated and skipped (a tool call's arguments as sent).
    mutating func rawValue() throws(SyntaxError) -> UnsafeBufferPointer<UInt8> {
        skipWhitespace()
        let start = index
        try skipValue()
        return UnsafeBufferPointer(rebasing: bytes[start..<index])
    }

    /// Refuses anything but whitespace after the document.
    mutating func end() throws(SyntaxError) {
        skipWhitespace()
        guard index == bytes.count else { throw SyntaxError(offset: index) }
    }

    // MARK: Scalars (a value of another type is skipped and `nil` returned)

    /// The next value if it is a string.
    mutating func string() throws(SyntaxError) -> String? {
        guard try peek() == .string else {
            try skipValue()
            return nil
        }
        let scanned = try scanString()
        if scanned.escaped { return String(decoding: try unescape(scanned.range), as: UTF8.self) }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[scanned.range]), as: UTF8.self)
    }

    /// The next value if it is a number with an integral value in `Int64` (`24`, `24.0`,
    /// `2.4e1`): what `JSONDecoder` decodes as an `Int64`.
    mutating func integer() throws(SyntaxError) -> Int64? {
        guard try peek() == .number else {
            try skipValue()
            return nil
        }
        return try scanNumber().integer
    }

    /// The next value if it is a number.
    mutating func number() throws(SyntaxError) -> Double? {
        guard try peek() == .number else {
            try skipValue()
            return nil
        }
        return try scanNumber().double
    }

    /// The next value if it is `true` or `false`.
    mutating func bool() throws(SyntaxError) -> Bool? {
        guard try peek() == .bool else {
            try skipValue()
            return nil
        }
        return try literalBool()
    }

    /// Consumes a `null` and returns `true`, or leaves any other value and returns `false`.
    mutating func null() throws(SyntaxError) -> Bool {
        guard try peek() == .null else { return false }
        try literal("null")
        return true
    }

    /// The next value as a tree.
    mutating func value() throws -> JSONValue {
        switch try peek() {
        case .null:
            try literal("null")
            return .null
        case .bool:
            return .bool(try literalBool())
        case .number:
            let number = try scanNumber()
            if let integer = number.integer { return .integer(integer) }
            return .number(number.double)
        case .string:
            return .string(try string() ?? "")
        case .array:
            var elements: [JSONValue] = []
            try forEachElement { reader, _ in elements.append(try reader.value()) }
            return .array(elements)
        case .object:
            var members: [String: JSONValue] = [:]
            try forEachMember { reader, key in
                let value = try reader.value()
                // Foundation keeps the first of duplicate keys.
                let name = key.string
                if members[name] == nil { members[name] = value }
            }
            return .object(members)
        }
    }

    // MARK: Lexing

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw SyntaxError(offset: index) }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) throws(SyntaxError) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw SyntaxError(offset: index) }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw SyntaxError(offset: index + offset)
        }
        index += count
    }

    private mutating func literalBool() throws(SyntaxError) -> Bool {
        if bytes[index] == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    /// Scans a string starting at its opening quote; returns the range between the quotes and
    /// whether it holds escapes. Validates escapes, control characters and UTF-8.
    private mutating func scanString() throws(SyntaxError) -> (range: Range<Int>, escaped: Bool) {
        index += 1
        let start = index
        var escaped = false
        let base = bytes.baseAddress!
        let count = bytes.count
        while true {
            // The plain run: eight bytes at a time, then byte by byte, in a local index (the
            // common case: no escape, no control character, ASCII).
            var position = index
            while count - position >= 8, Self.plainWord(UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)) {
                position += 8
            }
            while position < count {
                let byte = base[position]
                guard byte &- 0x20 < 0x60, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
                position += 1
            }
            index = position
            guard index < count else { throw SyntaxError(offset: index) }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (start..<index - 1, escaped)
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                try scanEscape()
            } else if byte < 0x20 {
                throw SyntaxError(offset: index)
            } else {
                try scanUTF8Sequence()
            }
        }
    }

    /// Whether none of a word's eight bytes is a quote, a backslash, a control character or
    /// non-ASCII (the classic SWAR tests: a byte is zero after XOR with the one sought).
    @inline(__always)
    private static func plainWord(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        let quote = hasZeroByte(word ^ (ones &* 0x22))
        let backslash = hasZeroByte(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs != 0  // some byte < 0x20
        return !quote && !backslash && !control && word & highs == 0
    }

    private mutating func scanEscape() throws(SyntaxError) {
        index += 1
        guard index < bytes.count else { throw SyntaxError(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            let unit = try hex4()
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed by an escaped low one.
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw SyntaxError(offset: index)
                }
                index += 2
                guard (0xDC00...0xDFFF).contains(try hex4()) else { throw SyntaxError(offset: index) }
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw SyntaxError(offset: index)
            }
        default:
            throw SyntaxError(offset: index)
        }
    }

    private mutating func hex4() throws(SyntaxError) -> UInt16 {
        guard bytes.count - index >= 4 else { throw SyntaxError(offset: index) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw SyntaxError(offset: index)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence (no overlong forms, no surrogates, ≤ U+10FFFF).
    private mutating func scanUTF8Sequence() throws(SyntaxError) {
        let lead = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw SyntaxError(offset: index)
        }
        guard bytes.count - index >= length else { throw SyntaxError(offset: index) }
        let second = bytes[index + 1]
        guard second >= lower, second <= upper else { throw SyntaxError(offset: index + 1) }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 {
            throw SyntaxError(offset: index + offset)
        }
        index += length
    }

    /// The bytes of an escaped string (already validated by ``scanString()``).
    private func unescape(_ range: Range<Int>) throws(SyntaxError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let code = bytes[position + 1]
            position += 2
            switch code {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(Self.hexValue(bytes, at: position))
                position += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = UInt32(Self.hexValue(bytes, at: position + 2))
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw SyntaxError(offset: position) }
                output.append(contentsOf: UTF8.encode(unicode)!)
            default: output.append(code)  // " \ /
            }
        }
        return output
    }

    private static func hexValue(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt16 {
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8 = switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: byte - UInt8(ascii: "A") + 10
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// A number token: its exact integer value when it has one, and its `Double` value.
    private struct Number {
        var integer: Int64?
        var double: Double
    }

    private mutating func scanNumber() throws(SyntaxError) -> Number {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw SyntaxError(offset: index) }
        // Accumulate the integer part as a negative magnitude so Int64.min fits.
        var magnitude: Int64 = 0
        var overflow = false
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.subtractingReportingOverflow(digit)
                if o1 || o2 { overflow = true } else { magnitude = next }
                index += 1
            }
        }
        var fractional = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            fractional = true
            index += 1
            guard try digits() else { throw SyntaxError(offset: index) }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            fractional = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard try digits() else { throw SyntaxError(offset: index) }
        }
        if !fractional && !overflow {
            if negative { return Number(integer: magnitude, double: Double(magnitude)) }
            if magnitude != .min { return Number(integer: -magnitude, double: -Double(magnitude)) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else { throw SyntaxError(offset: start) }
        // What JSONDecoder decodes as Int64: an integral value it can represent exactly.
        let integral = double.rounded(.towardZero) == double && double >= -9.223372036854775808e18 && double < 9.223372036854775808e18
        return Number(integer: !overflow && integral ? Int64(double) : nil, double: double)
    }

    private mutating func digits() throws(SyntaxError) -> Bool {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index > start
    }
}

/// A member name as the reader found it, compared without making a `String`.
struct JSONKey {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The name as a `String`.
    var string: String { String(decoding: bytes, as: UTF8.self) }

    static func == (key: JSONKey, name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard key.bytes.count == count else { return false }
        for offset in 0..<count where key.bytes[offset] != name.utf8Start[offset] { return false }
        return true
    }

    /// Lets a `switch` over a key match string literals.
    static func ~= (name: StaticString, key: JSONKey) -> Bool { key == name }
}

/// Which of an object's members a decoder has read, so a repeated member is skipped: the first
/// of duplicate members wins, as in Foundation's `JSONDecoder`. Used as a `case` guard:
/// `case "usage" where seen.first(2):`.
struct FirstSeen {
    private var bits: UInt64 = 0

    /// Whether member `index` (0…63, one per member the decoder reads) comes for the first
    /// time; marks it seen.
    mutating func first(_ index: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(index)
        defer { bits |= bit }
        return bits & bit == 0
    }
}
