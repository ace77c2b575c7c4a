internal import Foundation

/// The admin API's OpenAPI 3.1 document (`admin-openapi.json`, a resource of this module),
/// served at `GET /admin/openapi.json` and checked against the server by the gateway's tests.
enum AdminOpenAPI {
    /// The document's bytes; empty if the resource is missing from the installation (the route
    /// then answers 500 rather than a wrong document).
    static let document: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "admin-openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else { return [] }
        return Array(data)
    }()
}
