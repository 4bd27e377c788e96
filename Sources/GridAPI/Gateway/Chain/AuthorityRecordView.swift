/// An authority record: the super node this gateway answers to.
package struct AuthorityRecordView: Codable, Sendable {
    package var rootKey: String
    package var rootID: String
    package var certificateSerial: UInt64
    package var certificateName: String
    package var timestamp: Int64

    package init(
        rootKey: String,
        rootID: String,
        certificateSerial: UInt64,
        certificateName: String,
        timestamp: Int64
    ) {
        self.rootKey = rootKey
        self.rootID = rootID
        self.certificateSerial = certificateSerial
        self.certificateName = certificateName
        self.timestamp = timestamp
    }
}
