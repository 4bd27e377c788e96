import LedgerLite
import Synchronization

/// Signs the checkpoint log's C2SP checkpoint (a signed note) with the super node's root
/// key, under the log's origin, which is also the note key's name (docs/SECURITY.md says why
/// the root key and not a key of its own).
package final class LogSigner: Sendable {
    /// The log's origin: the checkpoint's first line and the signature's key name.
    package let origin: String
    /// The note key witnesses and clients verify the checkpoint with.
    package let key: NoteKey
    private let root: SigningIdentity
    /// The last note signed: a note is signed once per head, however often it is fetched.
    private let last = Mutex<(head: LogHead, note: String)?>(nil)

    /// The origin when `serve --log-origin` gives none: stable as long as the root key is.
    package static func defaultOrigin(root: KeyID) -> String { "gridledger-super-node/\(root.hex)" }

    /// Checks that `origin` can be a checkpoint's first line and a note key's name.
    /// - Throws: `NoteError.invalidKeyName` for an origin that is empty or holds a space or a
    ///   plus, or `.malformedCheckpoint` for one holding a control character.
    package static func check(origin: String) throws(NoteError) {
        guard NoteKey.isValidName(origin) else { throw .invalidKeyName(origin) }
        _ = try LogCheckpoint(origin: origin, size: 0, rootHash: Merkle.emptyRoot)
    }

    /// - Throws: `NoteError.invalidKeyName` for an origin that is empty or holds a space or a
    ///   plus, or `.malformedCheckpoint` for one holding a control character.
    package init(origin: String, root: SigningIdentity) throws(NoteError) {
        try Self.check(origin: origin)
        key = try NoteKey(name: origin, publicKey: root.publicIdentity)
        self.origin = origin
        self.root = root
    }

    /// The signed note of the log at `head`, as served at `/checkpoint`.
    package func note(for head: LogHead) throws -> String {
        if let cached = last.withLock({ $0 }), cached.head == head { return cached.note }
        let body = try LogCheckpoint(origin: origin, size: head.size, rootHash: head.root)
        let note = try SignedNote.sign(body.text, key: key, with: root).encoded
        last.withLock { $0 = (head, note) }
        return note
    }
}
