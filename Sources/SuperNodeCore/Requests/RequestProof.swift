/// What a request offers as proof that the gateway it speaks for sent it: the value of its
/// `GridLedger-Signature` header and the exact bytes of its body.
package struct RequestProof: Sendable {
    /// The header's value (base64 of a signed request stamp), nil when absent.
    package var signature: String?
    /// The body, exactly as received.
    package var body: [UInt8]

    package init(signature: String?, body: [UInt8]) {
        self.signature = signature
        self.body = body
    }
}
