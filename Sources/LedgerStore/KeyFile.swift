import Foundation
import LedgerLite
import PrivateFiles

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes key files.
///
/// - Private key: PEM-wrapped PKCS#8 (RFC 8410), the same file `openssl genpkey
///   -algorithm ed25519` writes, created with mode 0600. Loading refuses a file that
///   the group or others can read, a symbolic link (it is opened without following one),
///   and a file another user owns: `PrivateFile`'s rule, which TLS keys follow too.
/// - Public key: one line, `ed25519 <base64 of the 32 raw key bytes> [comment]`.
///
/// Both writes are atomic: the content goes to a temporary file in the same directory,
/// is flushed to disk, and is then linked into place, so a crash leaves either no file
/// or a complete one.
public enum KeyFile {
    /// The fixed DER prefix of an Ed25519 PKCS#8 private key (RFC 8410 §7), before the seed.
    static let pkcs8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03,
        0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]
    static let pemHeader = "-----BEGIN PRIVATE KEY-----"
    static let pemFooter = "-----END PRIVATE KEY-----"

    // MARK: private keys

    /// Writes `identity` as a PEM PKCS#8 file with mode 0600.
    /// - Parameter overwrite: replace an existing file; otherwise an existing file is an error.
    public static func writePrivateKey(
        _ identity: SigningIdentity,
        to path: String,
        overwrite: Bool = false
    ) throws(KeyFileError) {
        let der = pkcs8Prefix + identity.seed
        let pem = pemHeader + "\n" + Data(der).base64EncodedString() + "\n" + pemFooter + "\n"
        try atomicWrite(Array(pem.utf8), to: path, mode: 0o600, overwrite: overwrite)
    }

    /// Loads a private key written by `writePrivateKey` (or by OpenSSL).
    /// - Throws: `KeyFileError.insecurePermissions` when group or others have any access,
    ///   with the `chmod 600` fix in its description; `.symbolicLink` and `.notOwned` when
    ///   the path is a link or another user's file (either could hand us a key someone
    ///   else chose).
    public static func readPrivateKey(from path: String) throws(KeyFileError) -> SigningIdentity {
        let content: [UInt8]
        do { content = try PrivateFile.contents(of: path, limit: maxFileBytes) } catch {
            throw KeyFileError(error)
        }
        let text = String(decoding: content, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = lines.firstIndex(of: pemHeader), let end = lines.firstIndex(of: pemFooter), start < end else {
            throw .malformed(path: path, reason: "expected a PEM block '\(pemHeader)' … '\(pemFooter)'")
        }
        let body = lines[(start + 1)..<end].joined()
        guard let der = Data(base64Encoded: body).map(Array.init) else {
            throw .malformed(path: path, reason: "the PEM body is not valid base64")
        }
        guard der.count == pkcs8Prefix.count + 32, Array(der.prefix(pkcs8Prefix.count)) == pkcs8Prefix else {
            throw .malformed(path: path, reason: "not an Ed25519 PKCS#8 private key (RFC 8410)")
        }
        do {
            return try SigningIdentity(seed: der.suffix(32))
        } catch {
            throw .malformed(path: path, reason: error.description)
        }
    }

    // MARK: public keys

    /// The one-line public key format: `ed25519 <base64> [comment]` (no newline).
    public static func publicKeyLine(_ identity: PublicIdentity, comment: String? = nil) -> String {
        var line = "ed25519 " + Data(identity.rawBytes).base64EncodedString()
        if let comment, !comment.isEmpty {
            line += " " + comment.replacingOccurrences(of: "\n", with: " ")
        }
        return line
    }

    /// Parses a line in the `ed25519 <base64> [comment]` format.
    public static func parsePublicKeyLine(
        _ line: String
    ) throws(KeyFileError) -> (identity: PublicIdentity, comment: String?) {
        try parsePublicKeyLine(line, path: "<line>")
    }

    /// Writes the public key as one line (mode 0644).
    public static func writePublicKey(
        _ identity: PublicIdentity,
        to path: String,
        comment: String? = nil,
        overwrite: Bool = false
    ) throws(KeyFileError) {
        try atomicWrite(
            Array((publicKeyLine(identity, comment: comment) + "\n").utf8),
            to: path,
            mode: 0o644,
            overwrite: overwrite
        )
    }

    /// Reads a `.pub` file.
    public static func readPublicKey(from path: String) throws(KeyFileError) -> PublicIdentity {
        let content = try readFile(path)
        let text = String(decoding: content, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw .malformed(path: path, reason: "the file is empty; expected 'ed25519 <base64> [comment]'")
        }
        return try parsePublicKeyLine(String(line), path: path).identity
    }

    /// Reads a file of public key lines (a fleet's keys, one per line); blank lines and lines
    /// starting with `#` are skipped. An error names the file and the line.
    public static func readPublicKeys(from path: String) throws(KeyFileError) -> [PublicIdentity] {
        let text = String(decoding: try readFile(path, limit: maxKeyListBytes), as: UTF8.self)
        var keys: [PublicIdentity] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            keys.append(try parsePublicKeyLine(trimmed, path: "\(path):\(number + 1)").identity)
        }
        guard !keys.isEmpty else {
            throw .malformed(path: path, reason: "the file holds no key; expected 'ed25519 <base64> [comment]' lines")
        }
        return keys
    }

    static func parsePublicKeyLine(
        _ line: String,
        path: String
    ) throws(KeyFileError) -> (identity: PublicIdentity, comment: String?) {
        let parts = line.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: " ",
            maxSplits: 2,
            omittingEmptySubsequences: true
        )
        guard parts.count >= 2, parts[0] == "ed25519" else {
            throw .malformed(path: path, reason: "expected 'ed25519 <base64> [comment]'")
        }
        guard let raw = Data(base64Encoded: String(parts[1])), raw.count == 32 else {
            throw .malformed(path: path, reason: "the key is not 32 bytes of base64")
        }
        do {
            let identity = try PublicIdentity(rawBytes: Array(raw))
            return (identity, parts.count > 2 ? String(parts[2]) : nil)
        } catch {
            throw .malformed(path: path, reason: error.description)
        }
    }

    // MARK: file system

    /// The largest key file read.
    static let maxFileBytes = 64 * 1024
    /// A file of public key lines (a fleet's): about 150,000 keys.
    static let maxKeyListBytes = 8 << 20

    /// A public key's file (private keys are read by `PrivateFile`, with its checks).
    static func readFile(_ path: String, limit: Int = maxFileBytes) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var content = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            content += buffer[0..<n]
            if content.count > limit {
                throw .malformed(path: path, reason: "larger than \(limit / 1024) KiB; not a key file")
            }
        }
        return content
    }

    static func atomicWrite(_ content: [UInt8], to path: String, mode: mode_t, overwrite: Bool) throws(KeyFileError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temp =
            (directory.isEmpty ? "." : directory)
            + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(path: temp, operation: "create", errno: errno) }
        var linked = false
        defer { if !linked { unlink(temp) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw KeyFileError.io(path: temp, operation: "chmod", errno: errno) }
            var offset = 0
            while offset < content.count {
                let n = content.withUnsafeBytes { raw in
                    write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw KeyFileError.io(path: temp, operation: "write", errno: errno)
                }
                offset += n
            }
            guard fsync(fd) == 0 else { throw KeyFileError.io(path: temp, operation: "fsync", errno: errno) }
        } catch let error as KeyFileError {
            throw error
        } catch {
            throw .io(path: temp, operation: "write", errno: EIO)
        }
        if overwrite {
            guard rename(temp, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        } else {
            // link() fails with EEXIST instead of replacing: atomic create-if-absent.
            guard link(temp, path) == 0 else {
                if errno == EEXIST { throw .alreadyExists(path: path) }
                throw .io(path: path, operation: "link", errno: errno)
            }
            unlink(temp)
        }
        linked = true
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)  // best effort: the file itself is already durable
            close(dirfd)
        }
    }
}

/// Why a key file could not be read or written. Each description names the file and the fix.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The private key file is readable or writable by group or others.
    case insecurePermissions(path: String, mode: UInt32)
    /// The target file exists and overwriting was not requested.
    case alreadyExists(path: String)
    /// The file's content is not in the expected format.
    case malformed(path: String, reason: String)
    /// A system call failed.
    case io(path: String, operation: String, errno: Int32)
    /// The private key's path is a symbolic link (keys are not read through links).
    case symbolicLink(path: String)
    /// The private key file belongs to another user.
    case notOwned(path: String, owner: UInt32, user: UInt32)

    /// The same refusal as a key file's.
    init(_ error: PrivateFileError) {
        switch error {
        case let .symbolicLink(path): self = .symbolicLink(path: path)
        case let .notOwned(path, owner, user): self = .notOwned(path: path, owner: owner, user: user)
        case let .accessibleByOthers(path, mode): self = .insecurePermissions(path: path, mode: mode)
        case let .tooLarge(path, _): self = .malformed(path: path, reason: "larger than 64 KiB; not a key file")
        case let .io(path, operation, code): self = .io(path: path, operation: operation, errno: code)
        }
    }

    public var description: String {
        switch self {
        case let .insecurePermissions(path, mode):
            return PrivateFileError.accessibleByOthers(path: path, mode: mode).description
        case let .alreadyExists(path):
            return "\(path) already exists; refusing to overwrite a key file (move it away first)"
        case let .malformed(path, reason):
            return "\(path): \(reason)"
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case let .symbolicLink(path):
            return PrivateFileError.symbolicLink(path: path).description
        case let .notOwned(path, owner, user):
            return PrivateFileError.notOwned(path: path, owner: owner, user: user).description
        }
    }
}
