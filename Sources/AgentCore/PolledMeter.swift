import LedgerLite
import ModbusBridge

/// One meter an agent reads and signs for.
package struct PolledMeter: Sendable {
    /// The meter's reader: for a SunSpec meter not discovered yet, one with an empty profile
    /// named `sunspec` (its unit and client are the meter's).
    package let reader: MeterReader
    package let factory: ReadingFactory
    package let identity: SigningIdentity
    package var role: MeterRole = .consumer
    /// Signs the meter's OCMF documents, when it has an OCMF key.
    package var ocmf: OCMFRecorder?
    /// For a meter read by SunSpec discovery: where its reader comes from once discovered.
    package let sunspec: SunSpecMeterAccess?

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
        self.sunspec = nil
    }

    /// A SunSpec meter: `reader` and `factory` are the discovered ones when discovery at start
    /// succeeded, else stand-ins until `read()` discovers the map.
    package init(
        sunspec: SunSpecMeterAccess,
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
        self.sunspec = sunspec
    }

    /// One snapshot and the factory that turns it into a reading.
    package func read() async throws -> (snapshot: MeterSnapshot, factory: ReadingFactory) {
        guard let sunspec else { return (try await reader.read(), factory) }
        let (reader, factory) = try await sunspec.resolve()
        return (try await reader.read(), factory)
    }
}
