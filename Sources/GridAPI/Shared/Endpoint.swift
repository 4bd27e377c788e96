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

    package init(_ method: Method, _ template: String, maxBodyBytes: Int = 0, eventStream: Bool = false) {
        self.method = method
        self.template = template
        self.maxBodyBytes = maxBodyBytes
        self.eventStream = eventStream
    }

    /// The template in Hummingbird's syntax, without the leading slash.
    package var routerPath: String {
        template.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    /// The path with each `{name}` replaced by `parameters[name]`, percent-encoded.
    package func path(_ parameters: [String: String] = [:]) -> String {
        var path = template
        for (name, value) in parameters {
            let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"]))
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
