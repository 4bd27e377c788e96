/// A fixed-length record the super node's root key signs (a checkpoint, an escalation
/// decision): its canonical bytes, and the root key's id in it.
public protocol RootSignedPayload: Hashable, Sendable {
    /// Length of the canonical bytes.
    static var encodedLength: Int { get }
    /// What a truncated signed copy is called in decoding errors.
    static var signedName: String { get }
    /// Id of the root key that signs it.
    var issuer: KeyID { get }
    /// The canonical bytes.
    func canonicalBytes() -> [UInt8]
    /// Decodes canonical bytes.
    init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError)
}

/// A payload with the root key's signature: `payload bytes ‖ Ed25519 signature (64)`, kept
/// verbatim.
public struct RootSigned<Payload: RootSignedPayload>: Hashable, Sendable {
    /// Length of the signed bytes.
    public static var encodedLength: Int { Payload.encodedLength + 64 }
    /// The signed bytes, verbatim.
    public let bytes: [UInt8]
    /// The decoded payload.
    public let payload: Payload

    /// The payload's canonical bytes.
    public var body: ArraySlice<UInt8> { bytes[0..<Payload.encodedLength] }
    /// The root key's signature over `body`.
    public var signature: ArraySlice<UInt8> { bytes[Payload.encodedLength...] }

    /// Parses signed bytes (does not check the signature).
    public init<C: Collection>(bytes: C) throws(RecordDecodingError) where C.Element == UInt8 {
        let bytes = Array(bytes)
        let total = Self.encodedLength
        guard bytes.count >= total else {
            throw .truncated(field: Payload.signedName, needed: total, remaining: bytes.count)
        }
        guard bytes.count == total else { throw .trailingBytes(count: bytes.count - total) }
        payload = try Payload(canonicalBytes: bytes[0..<Payload.encodedLength])
        self.bytes = bytes
    }

    /// Signs `payload` with the root key.
    public static func sign(_ payload: Payload, with root: SigningIdentity) throws(IdentityError) -> RootSigned {
        let body = payload.canonicalBytes()
        return RootSigned(payload: payload, bytes: body + (try root.sign(body)))
    }

    private init(payload: Payload, bytes: [UInt8]) {
        self.payload = payload
        self.bytes = bytes
    }

    /// True when `root` is the issuer and its signature verifies.
    public func isSignatureValid(by root: PublicIdentity) -> Bool {
        root.id == payload.issuer && root.isValidSignature(signature, for: body)
    }
}
