/// Why the gateway did not take a batch or answer a query.
package enum GatewayError: Error, CustomStringConvertible {
    /// It answered another status than 200, or a body that does not decode (`status` 0: none).
    case refused(status: Int, body: String)
    /// Its answer does not fit what was sent (say, fewer results than records).
    case mismatchedAnswer(String)

    package var description: String {
        switch self {
        case let .refused(status, body): return "gateway answered HTTP \(status): \(body.prefix(300))"
        case let .mismatchedAnswer(problem): return "the gateway's answer does not match the batch: \(problem)"
        }
    }
}
