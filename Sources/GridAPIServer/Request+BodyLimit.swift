import GridAPI
import Hummingbird
import NIOCore

/// A request body larger than its endpoint accepts (`Endpoint.maxBodyBytes`).
package struct BodyTooLarge: Error, CustomStringConvertible {
    package let endpoint: Endpoint

    package var description: String {
        "the body is larger than \(endpoint.maxBodyBytes) bytes, the most \(endpoint) accepts"
    }
}

extension Request {
    /// Reads the whole body, refusing one larger than `endpoint` accepts as soon as that much
    /// has arrived (nothing beyond it is buffered).
    /// - Throws: `BodyTooLarge`, or the connection's error when the body cannot be read.
    package mutating func collectBody(for endpoint: Endpoint) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: endpoint.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw BodyTooLarge(endpoint: endpoint)
        }
    }
}
