import Foundation

/// An offer or request that got no decision from the gateway.
package enum TradeError: Error, CustomStringConvertible, Equatable {
    /// No HTTP answer at all: refused, timed out, name not found, TLS…
    case unreachable(gateway: String, error: String)
    /// An HTTP answer that is not the expected response (e.g. `{"error": …}`, HTML from a proxy).
    case unexpectedAnswer(status: Int, path: String, detail: String)
    /// The gateway asked for fewer requests (HTTP 429), for `retryAfter` if it said.
    case throttled(gateway: String, retryAfter: Duration?)

    package var description: String {
        switch self {
        case .unreachable(let gateway, let error):
            return
                "cannot reach the gateway at \(gateway) (\(error)); check --gateway and that `edge-gateway serve` is running there, then try again"
        case .throttled(let gateway, let retryAfter):
            let when = retryAfter.map { "after \($0.components.seconds) s" } ?? "later"
            return
                "the gateway at \(gateway) is refusing requests from this address for now (HTTP 429, too many write requests); try again \(when)"
        case .unexpectedAnswer(let status, let path, let detail):
            let said = detail.isEmpty ? "" : ": \(detail)"
            switch status {
            case 404, 405:
                return
                    "gateway answered HTTP \(status) to POST /\(path)\(said); it does not take this yet: check --gateway and update edge-gateway"
            case 500...:
                return
                    "gateway answered HTTP \(status)\(said); try again later, and check the gateway's log if it persists"
            default:
                return
                    "gateway answered HTTP \(status)\(said); check that meter-agent and edge-gateway are of the same version"
            }
        }
    }

    /// Worth trying again later, unchanged.
    package var isTemporary: Bool {
        switch self {
        case .unreachable, .throttled: true
        case .unexpectedAnswer(let status, _, _): status >= 500 || status == 429
        }
    }

    /// How long the gateway asked to wait before the next request (HTTP 429 with Retry-After).
    package var retryAfter: Duration? {
        guard case .throttled(_, let retryAfter) = self else { return nil }
        return retryAfter
    }

    /// The gist of a body that is not the expected response: the `error` or `detail` of a
    /// JSON object, else the start of the text.
    package static func gist(of body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            for key in ["error", "detail", "reason", "message"] {
                if let text = object[key] as? String { return text }
            }
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// A network error in a few words.
    package static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.contains("Connection refused") || text.contains("connection refused") { return "connection refused" }
        if text.contains("deadlineExceeded") || text.contains("readTimeout") { return "no answer in time" }
        return text
    }
}
