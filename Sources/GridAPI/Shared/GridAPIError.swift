import AsyncHTTPClient
import Foundation

/// Why a call of `GatewayClient` or `SuperNodeClient` got no usable answer.
///
/// The three cases are what callers tell apart: no answer at all (retry later), an answer
/// with a status the call does not take (the server's `reason` and `detail` are kept), and
/// an answer whose body is not the JSON the route promises.
package enum GridAPIError: Error, CustomStringConvertible {
    /// No complete HTTP answer: connection refused, timed out, name not found, TLS, or an
    /// answer body larger than the call's cap. `error` is AsyncHTTPClient's or NIO's.
    case transport(url: String, error: any Error)
    /// An HTTP answer with a status the call does not take as success. `reason` and `detail`
    /// come from the body when it is one of the servers' JSON error shapes (`{"error": …}`,
    /// `{"reason": …, "message": …}`). `retryAfter` is the answer's `Retry-After` (429, 503),
    /// capped at `GridAPIError.maxRetryAfter`.
    case status(Int, url: String, reason: String?, detail: String?, body: Data, retryAfter: Duration? = nil)
    /// An answer whose body does not decode as the route's response type.
    case undecodable(status: Int, url: String, body: Data)

    /// The HTTP status, when there was an answer.
    package var status: Int? {
        switch self {
        case .transport: nil
        case .status(let code, _, _, _, _, _): code
        case .undecodable(let code, _, _): code
        }
    }

    /// The answer's body, when there was one.
    package var body: Data? {
        switch self {
        case .transport: nil
        case .status(_, _, _, _, let body, _), .undecodable(_, _, let body): body
        }
    }

    /// How long the server asked the caller to wait before the same request (`Retry-After`
    /// on a 429 or 503); nil when it did not say.
    package var retryAfter: Duration? {
        guard case .status(_, _, _, _, _, let retryAfter) = self else { return nil }
        return retryAfter
    }

    /// The longest `Retry-After` a client obeys: a server that asks for more is waited for this long.
    package static let maxRetryAfter: Duration = .seconds(300)

    /// `Retry-After` as whole seconds (its HTTP-date form is not used by GridLedger's servers
    /// and is ignored), capped at `maxRetryAfter`.
    package static func retryAfter(header: String?) -> Duration? {
        guard let header, let seconds = Int64(header.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return min(.seconds(seconds), maxRetryAfter)
    }

    /// The answer's body as text (empty without an answer).
    package var bodyText: String { body.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// True when the call ran out of time (connecting or waiting for the answer).
    package var isTimeout: Bool {
        guard case .transport(_, let error) = self else { return false }
        if let error = error as? HTTPClientError {
            return error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        }
        return false
    }

    package var description: String {
        switch self {
        case .transport(let url, let error):
            return "cannot reach \(url): \(error)"
        case .status(let code, let url, let reason, let detail, _, let retryAfter):
            let said = [reason, detail].compactMap { $0 }.joined(separator: ": ")
            let retry = retryAfter.map { " (retry after \($0.components.seconds) s)" } ?? ""
            return "\(url) answered HTTP \(code)" + (said.isEmpty ? "" : ": \(said)") + retry
        case .undecodable(let code, let url, let body):
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return "\(url) answered HTTP \(code) with a body that is not the expected JSON (\(text))"
        }
    }
}
