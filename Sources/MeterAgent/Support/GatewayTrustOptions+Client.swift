import GridAPI
import GridTLS
import OperatorKit

extension GatewayTrustOptions {
    /// The typed client's TLS for the trust asked for; a CA file is read now.
    func clientTLS() throws -> ClientTLS {
        do { return try ClientTLS(trust: trust()) } catch let error as TLSError {
            throw OperatorError(error.description)
        }
    }
}
