/// How the SQL stores' dialects differ in the statements they share: table names, parameter
/// placeholders, and the cast a `SUM` needs to come back as a 64-bit integer.
package struct SQLDialect: Sendable {
    /// Prefixed to every table name (`routersdk_` in a shared PostgreSQL database).
    package var tablePrefix: String
    /// `$1, $2, …` (PostgreSQL) instead of `?` (SQLite).
    package var numberedPlaceholders: Bool
    /// Appended to `SUM(…)` (`::BIGINT` in PostgreSQL, whose `SUM` of `BIGINT` is `NUMERIC`).
    package var sumCast: String

    package static let sqlite = SQLDialect(tablePrefix: "", numberedPlaceholders: false, sumCast: "")
    package static let postgres = SQLDialect(tablePrefix: "routersdk_", numberedPlaceholders: true, sumCast: "::BIGINT")

    /// `sql` written with `{table}` names and `?` placeholders, in this dialect.
    package func statement(_ sql: String) -> String {
        var text = ""
        var placeholder = 0
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if character == "{", let close = sql[index...].firstIndex(of: "}") {
                text += tablePrefix + sql[sql.index(after: index)..<close]
                index = sql.index(after: close)
                continue
            }
            if character == "?", numberedPlaceholders {
                placeholder += 1
                text += "$\(placeholder)"
            } else {
                text.append(character)
            }
            index = sql.index(after: index)
        }
        return text
    }
}
