import Foundation
import PrivateFiles

#if canImport(Glibc)
import Glibc
import Logging
#endif

/// What the gateway's and the super node's data directories have in common: a private
/// directory made by one `init`, checked before every other command, and the file a
/// running server writes its URL to.
public struct ServiceDirectory: Sendable {
    /// The directory, without a trailing slash.
    public let path: String
    /// The file whose presence says `init` ran (the private key).
    public let marker: String
    /// Who owns it, for messages: "gateway", "super node".
    public let kind: String
    /// The command that creates it, for messages: "edge-gateway init".
    public let initCommand: String

    public init(_ path: String, marker: String, kind: String, initCommand: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        self.marker = marker
        self.kind = kind
        self.initCommand = initCommand
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// True once `init` has written the marker file.
    public var isInitialised: Bool { FileManager.default.fileExists(atPath: file(marker)) }

    /// Creates the directory (mode 0700) for `init`, or accepts an existing empty one.
    /// - Parameter existing: more files that mean a directory was already set up.
    /// - Parameter refusal: what to add to the refusal (why overwriting would be wrong).
    public func create(refusingIfPresent existing: [String], refusal: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw OperatorError("\(path) exists and is not a directory; choose another --data path")
            }
            if isInitialised || existing.contains(where: { fm.fileExists(atPath: file($0)) }) {
                throw OperatorError(
                    "\(path) is already an initialised \(kind) data directory (\(file(marker)) exists); refusing to overwrite it. \(refusal)"
                )
            }
            try requirePrivate()
            // An existing empty directory becomes as private as one init creates.
            guard chmod(path, 0o700) == 0 else {
                throw OperatorError("cannot make \(path) private (chmod 700): \(String(cString: strerror(errno)))")
            }
        } else {
            do { try PrivateDirectory.create(path) } catch { throw OperatorError(error.description) }
        }
    }

    /// Fails with a clear line unless `init` set the directory up, and unless only its owner
    /// can change what is in it.
    public func requireInitialised() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw OperatorError("data directory \(path) does not exist; run `\(initCommand) --data \(path)` first")
        }
        guard isInitialised else {
            throw OperatorError(
                "\(path) is not an initialised \(kind) data directory (no \(file(marker))); run `\(initCommand) --data \(path)` first"
            )
        }
        try requirePrivate()
    }

    /// Refuses a directory that group or others may write to, or that another user owns:
    /// whoever can write to it can replace the key, the token or the chain (`PrivateDirectory`,
    /// the rule the meter agent's directory follows too).
    func requirePrivate() throws {
        do { try PrivateDirectory.check(path) } catch { throw OperatorError(error.description) }
    }
}

/// The one-line file a server writes its URL to once its port is bound (clients wait for
/// it), replaced atomically and removed on a clean stop.
public struct ServerURLFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The URL the running server wrote, nil when there is none.
    public func read() -> String? {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return text
    }

    public func write(_ url: String) throws {
        try Self.replace(path, with: url)
    }

    private static func replace(_ path: String, with line: String) throws {
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data((line + "\n").utf8)) else {
            throw OperatorError("cannot write \(path); check the data directory is writable")
        }
        guard rename(temp, path) == 0 else {
            throw OperatorError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Where a server speaking TLS writes the SHA-256 fingerprint of the certificate it
    /// presents, beside the URL, so that local clients (enroll, revoke) can pin it.
    public var fingerprintPath: String { path + ".fingerprint" }

    /// The fingerprint the running server wrote, nil when it speaks plain HTTP.
    public func readFingerprint() -> String? {
        guard let data = FileManager.default.contents(atPath: fingerprintPath),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return text
    }

    public func remove() {
        unlink(path)
        unlink(fingerprintPath)
    }

    /// What a server does once its port is bound: writes the URL for `listen` on `boundPort`
    /// (a failed write is logged, the server keeps serving) and logs `listening`.
    /// - Parameter fingerprint: the fingerprint of the certificate served (https:// URL), or
    ///   nil for plain HTTP.
    /// - Returns: the URL.
    @discardableResult
    public func publish(listen: ListenAddress, boundPort: Int?, fingerprint: String? = nil, logger: Logger) -> String {
        let port = boundPort ?? listen.port
        let url = listen.url(port: port, scheme: fingerprint == nil ? "http" : "https")
        do {
            if let fingerprint {
                try Self.replace(fingerprintPath, with: fingerprint)
            } else {
                unlink(fingerprintPath)
            }
            try write(url)
        } catch {
            logger.error("cannot write the listen URL", metadata: ["error": "\(error)"])
        }
        var metadata: Logger.Metadata = ["url": "\(url)", "port": "\(port)", "url.file": "\(path)"]
        if let fingerprint { metadata["tls.fingerprint"] = "\(fingerprint)" }
        logger.notice("listening", metadata: metadata)
        return url
    }
}

extension ListenAddress {
    /// The one line for an error that stopped a server listening here: a port in use and
    /// an address not of this machine are named; anything else is passed on as it is.
    public func serveFailure(_ error: any Error) -> OperatorError {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") || text.contains("errno: 98") {
            return OperatorError(
                "cannot listen on \(self): the address is already in use; stop the other process or choose another --listen port"
            )
        }
        if text.contains("Cannot assign requested address") || text.contains("EADDRNOTAVAIL")
            || text.contains("errno: 99")
        {
            return OperatorError(
                "cannot listen on \(self): no such local address; use 127.0.0.1, 0.0.0.0 or an address of this machine"
            )
        }
        return OperatorError("cannot serve on \(self): \(error)")
    }
}
