/// Where a meter's OCMF key files are: beside its Ed25519 key file, so an agent file needs
/// no new setting. A meter has OCMF documents exactly when `privateKey` exists.
package struct OCMFKeyPaths: Sendable {
    /// The meter's Ed25519 private key file.
    package let meterKey: String

    package init(meterKey: String) { self.meterKey = meterKey }

    /// The P-256 private key: `KEY.ocmf` (mode 0600).
    package var privateKey: String { meterKey + ".ocmf" }
    /// Its public key, hex of the DER SubjectPublicKeyInfo: `KEY.ocmf.pub`.
    package var publicKey: String { privateKey + ".pub" }
}
