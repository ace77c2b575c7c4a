internal import Foundation
internal import RouterChat

/// Readers for the request members the inbound APIs share. Each throws a 400 ``GatewayError``
/// naming the member at fault (as `path`), so every API refuses bad input the same way.
enum RequestFields {
    /// The body as a JSON object.
    static func object(_ body: some Collection<UInt8>) throws(GatewayError) -> JSONValue {
        guard let json = JSONValue(parsing: body), case .object = json else {
            throw .invalidRequest("the request body is not a JSON object")
        }
        return json
    }

    /// A required non-empty string (`model`).
    static func name(_ value: JSONValue?, _ path: String) throws(GatewayError) -> String {
        guard let name = value?.string, !name.isEmpty else {
            throw .invalidRequest("'\(path)' is required and must be a non-empty string", parameter: path)
        }
        return name
    }

    /// A token count from 1 to 10,000,000, or `nil` when absent or null.
    static func count(_ value: JSONValue?, _ path: String) throws(GatewayError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let count = value.integer, count >= 1, count <= 10_000_000 else {
            throw .invalidRequest("'\(path)' must be a positive integer", parameter: path)
        }
        return Int(count)
    }

    /// A number from 0 to `maximum` (a temperature), or `nil` when absent or null.
    static func number(_ value: JSONValue?, _ path: String, maximum: Double) throws(GatewayError) -> Double? {
        guard let value, !value.isNull else { return nil }
        let number: Double? =
            switch value {
            case .integer(let integer): Double(integer)
            case .number(let number): number
            default: nil
            }
        guard let number, number >= 0, number <= maximum else {
            throw .invalidRequest("'\(path)' must be a number from 0 to \(Int(maximum))", parameter: path)
        }
        return number
    }

    /// A list of strings (stop sequences); a lone string too when `single` allows it.
    static func strings(_ value: JSONValue?, _ path: String, single: Bool = false) throws(GatewayError) -> [String] {
        let wanted = single ? "a string or a list of strings" : "a list of strings"
        switch value {
        case nil, .null?: return []
        case .string(let string)? where single: return [string]
        case .array(let values)?:
            return try values.map { value throws(GatewayError) -> String in
                guard let string = value.string else { throw .invalidRequest("'\(path)' must be \(wanted)", parameter: path) }
                return string
            }
        default: throw .invalidRequest("'\(path)' must be \(wanted)", parameter: path)
        }
    }

    /// A boolean, `absent` when the member is missing or null.
    static func flag(_ value: JSONValue?, _ path: String, absent: Bool) throws(GatewayError) -> Bool {
        switch value {
        case nil, .null?: return absent
        case .bool(let flag)?: return flag
        default: throw .invalidRequest("'\(path)' must be a boolean", parameter: path)
        }
    }

    /// Image bytes from base64 text; the media type is `mediaType` when given, else read from
    /// the bytes' signature (Ollama sends bare base64).
    static func image(base64 text: String, mediaType: String?, _ path: String) throws(GatewayError) -> ChatMessage.Part {
        guard let data = Data(base64Encoded: text), !data.isEmpty else {
            throw .invalidRequest("\(path) is not base64 image data", parameter: path)
        }
        return .imageData(data, mediaType: mediaType ?? Self.mediaType(of: data))
    }

    /// The image type a file signature names; PNG when none matches.
    private static func mediaType(of data: Data) -> String {
        let bytes = [UInt8](data.prefix(12))
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: Array("GIF8".utf8)) { return "image/gif" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        return "image/png"
    }

    /// Tool arguments as the JSON text ``RouterChat/ToolCall`` carries; an object is required.
    static func arguments(_ value: JSONValue?, _ path: String) throws(GatewayError) -> String {
        switch value {
        case nil, .null?: return "{}"
        case .object(let members)?: return JSONValue.object(members).jsonText
        default: throw .invalidRequest("'\(path)' must be a JSON object", parameter: path)
        }
    }

    /// Tool-call arguments text as a JSON object for the APIs that send objects (Anthropic's
    /// `input`, Ollama's `arguments`); text that is not an object is kept under `"arguments"`
    /// rather than lost.
    static func argumentsObject(_ text: String) -> JSONValue {
        if let value = JSONValue(parsing: Array(text.utf8)), case .object = value { return value }
        return text.isEmpty ? [:] : ["arguments": .string(text)]
    }

    /// OpenAI's tool list (Ollama uses it too): `[{"type": "function", "function": {"name",
    /// "description", "parameters"}}]`.
    static func functionTools(_ value: JSONValue?) throws(GatewayError) -> [ChatTool] {
        guard let value, !value.isNull else { return [] }
        guard let tools = value.array else { throw .invalidRequest("'tools' must be a list", parameter: "tools") }
        return try tools.enumerated().map { index, tool throws(GatewayError) -> ChatTool in
            guard tool["type"]?.string == "function", let function = tool["function"], let name = function["name"]?.string, !name.isEmpty else {
                throw .invalidRequest("tools[\(index)] must be a function with a name", parameter: "tools[\(index)]")
            }
            return ChatTool(
                name: name, description: function["description"]?.string ?? "",
                parameters: function["parameters"] ?? ["type": "object", "properties": [:]])
        }
    }
}
