/// Why a signed note, a verifier key or a tlog checkpoint was refused.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The note is not well formed (C2SP signed-note, "Format"); the text says where.
    case malformed(String)
    /// A key name is empty, or holds a space or a plus.
    case invalidKeyName(String)
    /// A verifier key string is not `name+hexkeyid+base64(0x01 ‖ 32-byte key)`.
    case malformedVerifierKey(String)
    /// The verifier key's id is not the one its name and key hash to.
    case verifierKeyIDMismatch(String)
    /// No signature line of the note is by the key.
    case notSignedByKey(String)
    /// A signature line of the key does not verify.
    case invalidSignature(String)
    /// The note text is not a C2SP tlog-checkpoint body.
    case malformedCheckpoint(String)

    public var description: String {
        switch self {
        case let .malformed(why): return "malformed signed note: \(why)"
        case let .invalidKeyName(name):
            return "invalid note key name '\(name.prefix(80))': it must be non-empty, without spaces or '+'"
        case let .malformedVerifierKey(why):
            return "malformed verifier key: \(why); expected name+hexkeyid+base64(0x01 ‖ Ed25519 key)"
        case let .verifierKeyIDMismatch(key):
            return "verifier key \(key.prefix(120)): the key id does not match its name and key"
        case let .notSignedByKey(key): return "the note carries no signature by \(key)"
        case let .invalidSignature(key): return "the note's signature by \(key) does not verify"
        case let .malformedCheckpoint(why): return "malformed checkpoint: \(why)"
        }
    }
}
