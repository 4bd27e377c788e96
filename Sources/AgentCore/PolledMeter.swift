import LedgerLite
import ModbusBridge

/// One meter an agent reads and signs for.
package struct PolledMeter: Sendable {
    package let reader: MeterReader
    package let factory: ReadingFactory
    package let identity: SigningIdentity
    package var role: MeterRole = .consumer
    /// Signs the meter's OCMF documents, when it has an OCMF key.
    package var ocmf: OCMFRecorder?

    package init(
        reader: MeterReader,
        factory: ReadingFactory,
        identity: SigningIdentity,
        role: MeterRole = .consumer,
        ocmf: OCMFRecorder? = nil
    ) {
        self.reader = reader
        self.factory = factory
        self.identity = identity
        self.role = role
        self.ocmf = ocmf
    }
}
