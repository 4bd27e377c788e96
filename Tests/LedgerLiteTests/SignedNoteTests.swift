import Foundation
import Testing

@testable import LedgerLite

/// Signed notes and verifier keys against the test vectors of Go's golang.org/x/mod/sumdb/note
/// (note_test.go), the implementation witnesses and tlog clients use.
@Suite struct SignedNoteTests {
    static let peterSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let peterKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let enochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let text =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterSig =
        "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochSig =
        "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    /// The seed in Go's signer key string `PRIVATE+KEY+name+id+base64(0x01 ‖ seed)`.
    static func peterIdentity() throws -> SigningIdentity {
        let encoded = try #require(Data(base64Encoded: String(peterSigner.split(separator: "+", maxSplits: 4).last!)))
        #expect(encoded.first == 0x01)
        return try SigningIdentity(seed: encoded.dropFirst())
    }

    @Test func theVerifierKeyOfGosVectorIsReadAndWrittenAlike() throws {
        let key = try NoteKey(verifierKey: Self.peterKey)
        #expect(key.name == "PeterNeumann")
        #expect(key.keyID == 0xc74f_20a3)
        #expect(key.verifierKey == Self.peterKey)
        let made = try NoteKey(name: "PeterNeumann", publicKey: try Self.peterIdentity().publicIdentity)
        #expect(made.verifierKey == Self.peterKey)
        #expect(try NoteKey(verifierKey: Self.enochKey).keyID == 0xaf0c_fe78)
    }

    @Test func everyManglingOfTheVerifierKeyIsRefused() {
        let bytes = Array(Self.peterKey.utf8)
        var accepted: [String] = []
        for i in 0...bytes.count {
            for j in (i + 1)..<(bytes.count + 1) where !(i == 0 && j == bytes.count) {
                let mangled = String(decoding: bytes[i..<j], as: UTF8.self)
                if (try? NoteKey(verifierKey: mangled)) != nil { accepted.append(mangled) }
            }
        }
        for i in bytes.indices {
            var changed = bytes
            changed[i] &+= 1
            let mangled = String(decoding: changed, as: UTF8.self)
            if (try? NoteKey(verifierKey: mangled)) != nil { accepted.append(mangled) }
        }
        #expect(accepted.isEmpty)
    }

    @Test func aKeyOfTheWrongLengthOrTypeIsRefusedEvenWithAMatchingID() {
        // Go's vectors: the key id recomputed for the wrong key, so only the key itself is wrong.
        #expect(throws: NoteError.self) {
            try NoteKey(verifierKey: "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
        }
        #expect(throws: NoteError.self) {
            try NoteKey(verifierKey: "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        }
    }

    @Test func signingGosTextGivesGosSignatureLine() throws {
        let key = try NoteKey(verifierKey: Self.peterKey)
        let note = try SignedNote.sign(Self.text, key: key, with: try Self.peterIdentity())
        #expect(note.encoded == Self.text + "\n" + Self.peterSig)
    }

    @Test func aNoteWithTwoSignaturesVerifiesByEachKeyAndKeepsItsText() throws {
        let note = try SignedNote(parsing: Array((Self.text + "\n" + Self.peterSig + Self.enochSig).utf8))
        #expect(note.text == Self.text)
        #expect(note.signatures.map(\.keyName) == ["PeterNeumann", "EnochRoot"])
        #expect(note.signatures.map(\.keyID) == [0xc74f_20a3, 0xaf0c_fe78])
        try note.verify(by: try NoteKey(verifierKey: Self.peterKey))
        try note.verify(by: try NoteKey(verifierKey: Self.enochKey))
    }

    @Test func aSignatureAlteredInItsBase64IsRefused() throws {
        let sig = Array(Self.peterSig)
        let broken = String(sig[..<60]) + "ABCD" + String(sig[60...])
        let note = try SignedNote(parsing: Array((Self.text + "\n" + broken).utf8))
        #expect(throws: NoteError.invalidSignature("PeterNeumann+c74f20a3")) {
            try note.verify(by: try NoteKey(verifierKey: Self.peterKey))
        }
    }

    @Test func aNoteSignedByAnotherKeyIsNotTakenAsSignedByTheGivenOne() throws {
        let note = try SignedNote(parsing: Array((Self.text + "\n" + Self.enochSig).utf8))
        #expect(throws: NoteError.notSignedByKey("PeterNeumann+c74f20a3")) {
            try note.verify(by: try NoteKey(verifierKey: Self.peterKey))
        }
        // The same name with another id is another key: ignored, not trusted.
        let renamed = Self.enochSig.replacingOccurrences(of: "EnochRoot", with: "PeterNeumann")
        let impostor = try SignedNote(parsing: Array((Self.text + "\n" + renamed).utf8))
        #expect(throws: NoteError.notSignedByKey("PeterNeumann+c74f20a3")) {
            try impostor.verify(by: try NoteKey(verifierKey: Self.peterKey))
        }
    }

    @Test(arguments: [
        text,
        text + "\n",
        text + "\n" + String(peterSig.dropLast()),
        "\u{01}" + text + "\n" + peterSig,
        text + "\n"
            + "\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        text + "\n" + peterSig + "Unexpected line.\n",
        text + "\n" + String(repeating: peterSig, count: 101),
    ])
    func gosMalformedNotesAreRefused(_ message: String) {
        #expect(throws: NoteError.self) { try SignedNote(parsing: Array(message.utf8)) }
    }

    @Test func aNoteThatIsNotUTF8IsRefused() {
        #expect(throws: NoteError.self) {
            try SignedNote(parsing: [0xFF] + Array((Self.text + "\n" + Self.peterSig).utf8))
        }
    }

    /// The root key signs notes and binary records alike: every record it signs has the
    /// version byte 0x01 at offset 1, a control character no note text may hold, so a note's
    /// signature is never one over a record's bytes.
    @Test func aTextWithAControlCharacterIsNeverSignedSoNoNoteSignsARecordsBytes() throws {
        let root = try SigningIdentity(seed: Array(repeating: 0xAA, count: 32))
        let key = try NoteKey(name: "log", publicKey: root.publicIdentity)
        let record = Checkpoint(
            issuer: root.id,
            gateway: root.id,
            certificateSerial: 1,
            height: 0,
            blockHash: .zero,
            merkleRoot: .zero,
            treeSize: 0,
            checkpointedAt: 0
        ).canonicalBytes()
        #expect(record[1] == 0x01)
        #expect(throws: NoteError.self) {
            try SignedNote.sign(String(decoding: record, as: UTF8.self) + "\n", key: key, with: root)
        }
        #expect(throws: NoteError.self) { try SignedNote.sign("no newline at the end", key: key, with: root) }
    }

    @Test func aKeyNameWithASpaceOrAPlusIsRefused() throws {
        let key = try Self.peterIdentity().publicIdentity
        #expect(throws: NoteError.self) { try NoteKey(name: "a b", publicKey: key) }
        #expect(throws: NoteError.self) { try NoteKey(name: "a+b", publicKey: key) }
        #expect(throws: NoteError.self) { try NoteKey(name: "", publicKey: key) }
    }
}

/// The C2SP tlog-checkpoint body.
@Suite struct LogCheckpointTests {
    @Test func theSpecsExampleBodyIsReadAndWrittenAlike() throws {
        let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let checkpoint = try LogCheckpoint(text: text)
        #expect(checkpoint.origin == "example.com/behind-the-sofa")
        #expect(checkpoint.size == 20_852_163)
        #expect(checkpoint.rootHash.hex == "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62")
        #expect(checkpoint.text == text)
    }

    @Test func extensionLinesFollowTheRootHash() throws {
        let checkpoint = try LogCheckpoint(origin: "o", size: 0, rootHash: Merkle.emptyRoot, extensions: ["x y"])
        #expect(checkpoint.text == "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nx y\n")
        #expect(try LogCheckpoint(text: checkpoint.text) == checkpoint)
    }

    @Test(arguments: [
        "o\n1\n",
        "o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
        "o\n1\nAAAA\n",
        "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
        "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ])
    func aMalformedBodyIsRefused(_ text: String) {
        #expect(throws: NoteError.self) { try LogCheckpoint(text: text) }
    }
}
