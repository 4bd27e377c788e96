import Foundation

/// One route of a server: its method and path template, declared once for the server's
/// router, its client and the OpenAPI contract test.
///
/// Templates are written as in OpenAPI (`/v1/blocks/{height}`); `routerPath` gives
/// Hummingbird's form (`v1/blocks/:height`).
package struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    package enum Method: String, Sendable, Hashable {
        case get = "GET"
        case post = "POST"
    }

    package let method: Method
    package let template: String
    /// The largest request body the route accepts (`BodyLimit`); 0 for a route that takes none.
    package let maxBodyBytes: Int
    /// True for a route that answers with a live `text/event-stream`, which stays open until
    /// the client or the server ends it.
    package let eventStream: Bool
    /// True when the template's last parameter takes the rest of the path, slashes and all
    /// (the tiles of the checkpoint log, whose index spans path elements); the handler reads
    /// it with `getCatchAll()`.
    package let restOfPath: Bool

    package init(
        _ method: Method,
        _ template: String,
        maxBodyBytes: Int = 0,
        eventStream: Bool = false,
        restOfPath: Bool = false
    ) {
        self.method = method
        self.template = template
        self.maxBodyBytes = maxBodyBytes
        self.eventStream = eventStream
        self.restOfPath = restOfPath
    }

    /// The template in Hummingbird's syntax, without the leading slash.
    package var routerPath: String {
        let parts = template.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return parts.enumerated().map { position, part in
            guard part.hasPrefix("{") && part.hasSuffix("}") else { return String(part) }
            return restOfPath && position == parts.count - 1 ? "**" : ":" + part.dropFirst().dropLast()
        }.joined(separator: "/")
    }

    /// The path with each `{name}` replaced by `parameters[name]`, percent-encoded (but for
    /// the slashes of a rest-of-path parameter).
    package func path(_ parameters: [String: String] = [:]) -> String {
        var path = template
        let last = parameterNames.last
        for (name, value) in parameters {
            let allowed: CharacterSet =
                restOfPath && name == last ? .urlPathAllowed : .urlPathAllowed.subtracting(["/"])
            let encoded = value.addingPercentEncoding(withAllowedCharacters: allowed)
            path = path.replacingOccurrences(of: "{\(name)}", with: encoded ?? value)
        }
        return path
    }

    /// The names of the template's path parameters, in order.
    package var parameterNames: [String] {
        template.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map {
            String($0.dropFirst().dropLast())
        }
    }

    package var description: String { "\(method.rawValue) \(template)" }
}
