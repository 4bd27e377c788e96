import GridAPI
import Testing

/// The document's half of an OpenAPI contract test, the same for both servers: its routes are
/// the route table's, and its body schemas are the body types' keys.
extension OpenAPIDocument {
    /// Expects the document to list exactly the routes of `routes` (called `table` in the
    /// messages), and the table to list each route once.
    package func expectListsExactly(
        _ routes: [Endpoint],
        table: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let listed = Self.operations(of: routes)
        #expect(operations.subtracting(listed).isEmpty, "documented, not in \(table)", sourceLocation: sourceLocation)
        #expect(listed.subtracting(operations).isEmpty, "in \(table), not documented", sourceLocation: sourceLocation)
        #expect(routes.count == listed.count, "a route is listed twice in \(table)", sourceLocation: sourceLocation)
    }

    /// Expects every schema an operation's body names to be one of `types`.
    package func expectEveryBodyDeclared(
        in types: [String: any Codable.Type],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (operation, names) in bodies {
            for name in names {
                #expect(
                    types[name] != nil,
                    "\(operation) names schema \(name), which is no body type",
                    sourceLocation: sourceLocation
                )
            }
        }
    }

    /// Expects schema `schema` to list exactly the keys its type in `types` encodes.
    package func expectSchema(
        _ schema: String,
        matchesItsTypeIn types: [String: any Codable.Type],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let documented = try #require(
            properties[schema],
            "no schema \(schema) in \(name)",
            sourceLocation: sourceLocation
        )
        let type = try #require(types[schema], "no body type for schema \(schema)", sourceLocation: sourceLocation)
        let encoded = try EncodedKeys.of(type)
        #expect(
            documented.subtracting(encoded).isEmpty,
            "\(schema): documented, not encoded",
            sourceLocation: sourceLocation
        )
        #expect(
            encoded.subtracting(documented).isEmpty,
            "\(schema): encoded, not documented",
            sourceLocation: sourceLocation
        )
    }
}
